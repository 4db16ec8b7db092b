// consultbot console: the overview's live figures and an export's progress, by short
// polling of this console only. Everything works without it, with a reload.
"use strict";

function every(seconds, work) {
  const run = () => work().finally(() => setTimeout(run, seconds * 1000));
  setTimeout(run, seconds * 1000);
}

function liveOverview() {
  const live = document.getElementById("live");
  if (!live) return;
  every(Number(live.dataset.every) || 5, async () => {
    const answer = await fetch(live.dataset.live, { credentials: "same-origin" });
    if (answer.ok) live.innerHTML = await answer.text();
  });
}

function exportProgress() {
  const job = document.getElementById("job");
  if (!job) return;
  const written = document.getElementById("written");
  const download = document.getElementById("download");
  const check = async () => {
    const answer = await fetch(job.dataset.status, { credentials: "same-origin" });
    if (!answer.ok) return;
    const status = await answer.json();
    if (written) written.textContent = status.error || status.written;
    if (status.done && !status.error) {
      download.hidden = false;
      const progress = job.querySelector("progress");
      if (progress) progress.remove();
      return;
    }
    if (!status.done) setTimeout(check, 1000);
  };
  if (download && download.hidden) check();
}

document.addEventListener("DOMContentLoaded", () => {
  liveOverview();
  exportProgress();
});
