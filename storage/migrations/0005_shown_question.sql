-- Which question the message `question_message_id` shows. An update delivered a
-- second time (after a crash before its reply went out) changes nothing; the
-- bot then shows the current question only if the participant has not seen it.
ALTER TABLE responses ADD COLUMN shown_question TEXT;
