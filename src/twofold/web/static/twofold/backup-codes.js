// Copy, download and print the backup codes on the page (the list with data-codes). No inline
// script: the Content-Security-Policy allows only files from this origin. Without JavaScript the
// buttons stay hidden and the codes can still be selected and copied by hand.
"use strict";
(() => {
  const list = document.querySelector("[data-codes]");
  const tools = document.querySelector("[data-code-tools]");
  if (!list || !tools) {
    return;
  }
  const codes = list.dataset.codes.split(/\s+/).filter(Boolean);
  const status = tools.querySelector("[data-code-status]");
  const text = () => `${list.dataset.header || "Twofold backup codes"}\n\n${codes.join("\n")}\n`;
  const say = (message) => {
    if (status) {
      status.textContent = message;
    }
  };

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text());
      say(tools.dataset.copied || "Copied to the clipboard.");
    } catch {
      // No clipboard access (an insecure origin, or refused): select the codes instead.
      window.getSelection().selectAllChildren(list);
      say(tools.dataset.selected || "The codes are selected: press Ctrl+C (⌘C on a Mac) to copy them.");
    }
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob([text()], { type: "text/plain;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "twofold-backup-codes.txt";
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
    say(tools.dataset.saved || "Saved as twofold-backup-codes.txt.");
  };

  const actions = { copy, download, print: () => window.print() };
  tools.querySelectorAll("[data-action]").forEach((button) => {
    button.addEventListener("click", actions[button.dataset.action]);
  });
  tools.hidden = false;
})();
