"""A local stand-in for the Telegram Bot API, served over real HTTP.

The model
---------
:class:`StandIn` plays Telegram: an aiohttp server on ``127.0.0.1`` that
answers ``{url}/bot{token}/{method}`` and ``{url}/file/bot{token}/{path}`` the
way ``api.telegram.org`` does. The bot under test talks to it with its normal
HTTP stack; the test (or the terminal sandbox, or a load generator) plays the
people:

* :meth:`StandIn.user` gives a :class:`SimUser`, a person with a Telegram
  client. Whatever they do (send text, media, a location; press an inline
  button; block the bot) becomes an *update* in a queue, with strictly
  increasing ``update_id``, that the bot fetches with ``getUpdates``. The
  first ``update_id`` is random (``first_update_id`` fixes it), so a bot that
  remembers the updates it handled does not drop a new stand-in's. An update
  stays in the queue until the bot confirms it by asking for a higher offset,
  so a bot that crashes before confirming sees it again.
* :meth:`StandIn.group` gives a :class:`SimChat`: a group, supergroup or
  channel the bot is a member of. With ``privacy_mode`` (the default, as for
  a new bot) the bot gets only commands and replies to it from groups.
* Every chat has one ``message_id`` sequence shared by incoming and bot
  messages. The bot's messages are recorded as :class:`SentMessage` objects
  that follow edits and deletions; every HTTP call is recorded as a
  :class:`Call`.

What the stand-in checks is what Telegram checks, with Telegram's status codes
and descriptions: unknown chats, empty or too long texts, HTML markup errors,
keyboards, callback data over 64 bytes, edits that change nothing, stale
callback queries, blocked users, upgraded groups, concurrent ``getUpdates``.
Faults Telegram produces at random are produced on demand:
:meth:`StandIn.fail_next`, :meth:`StandIn.delay`, :meth:`StandIn.limit_rate`,
:meth:`StandIn.block`, :meth:`StandIn.migrate_group`. A request can be kept out,
unanswered, for as long as a test needs (:meth:`StandIn.hold` until
:meth:`StandIn.release`; :attr:`StandIn.held` counts them), so that "a message is
out when the bot stops" happens at a known point, not after some time.

Waiting never polls: :meth:`StandIn.wait_until` and
:meth:`StandIn.next_message` wake up whenever a call is recorded or the update
queue changes.

Webhooks: ``setWebhook`` checks its arguments as Telegram does (``local_mode``
lets ``http://127.0.0.1:PORT`` through for a test's bot), blocks ``getUpdates``
while set, and the queue's updates are POSTed to it, one at a time per chat,
again after a back-off when refused (:mod:`.webhook`;
:attr:`StandIn.webhook_deliveries` records each attempt).

Not simulated: inline mode, payments, and methods outside
:data:`methods.METHODS`; MarkdownV2 and Markdown texts are accepted as plain
text.

The pieces
----------
``server``   :class:`StandIn`: the HTTP server, request dispatch, recording;
             the object a test holds
``world``    :class:`World`, the state all parts share: chats' messages, the
             bot's records, message rendering, waking waiters
``people``   :class:`SimUser` and :class:`SimChat`, whose actions become updates
``records``  :class:`Call`, :class:`SentMessage`, :class:`Button`: what a test reads
``files``    stored files and photo sizes
``updates``  the update queue and the long poll
``webhook``  posting updates to a webhook
``faults``   failures on demand, delays, holds, sending limits, blocking, migration
``methods``  one function per Bot API method
The wire format (``bot.sandbox.wire``) and Telegram's text rules
(``bot.sandbox.telegram_text``) sit beside the package.
"""

from ..wire import UploadedFile
from .people import SimChat, SimUser
from .records import Button, Call, SentMessage
from .server import StandIn
from .webhook import SECRET_HEADER, Delivery

__all__ = ["SECRET_HEADER", "Button", "Call", "Delivery", "SentMessage", "SimChat", "SimUser",
           "StandIn", "UploadedFile"]
