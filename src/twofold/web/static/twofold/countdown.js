// Counts down a button's wait (data-countdown seconds) and enables it at zero. No inline script:
// the Content-Security-Policy allows only files from this origin. Without script the server's
// count and the "waiting" look stay, and the button still works (the server says how long).
"use strict";
document.querySelectorAll("[data-countdown]").forEach((button) => {
  let left = parseInt(button.dataset.countdown, 10) || 0;
  const label = button.dataset.label || button.textContent.trim();
  const wait = button.dataset.wait || "(in {s} s)"; // the page's language: "(dans {s} s)"
  const tick = () => {
    if (left <= 0) {
      button.disabled = false;
      button.classList.remove("waiting");
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = `${label} ${wait.replace("{s}", left)}`;
    left -= 1;
    window.setTimeout(tick, 1000);
  };
  tick();
});
