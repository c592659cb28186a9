// The send confirmation of the campaign page: a dialog that names the audience count before
// anything leaves. The server checks the confirmed count again (expected_recipients), so this
// script only makes the step visible; a time in the past is offered as "send now".
(function () {
  "use strict";
  const form = document.getElementById("send-form");
  if (!form) return;
  const dialog = form.querySelector("#send-confirm");
  const at = form.querySelector("input[name=at]");
  const open = form.querySelector("[data-send-open]");
  let mode = "now";

  function show(when) {
    mode = when;
    dialog.querySelectorAll("[data-send-when]").forEach((paragraph) => {
      paragraph.hidden = paragraph.dataset.sendWhen !== when;
    });
  }

  open.addEventListener("click", () => {
    const value = at ? at.value : "";
    if (!value) {
      show("now");
    } else if (value <= form.dataset.now) {
      // Same format on both sides (YYYY-MM-DDTHH:MM, the account's time zone): compared as text.
      show("past");
    } else {
      show("later");
      const when = new Date(value);
      dialog.querySelector("[data-send-at]").textContent = isNaN(when)
        ? value
        : when.toLocaleString(document.documentElement.lang, {
            day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
          });
    }
    dialog.showModal();
  });

  dialog.querySelector("[data-send-cancel]").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", () => {
    if (mode === "past" && at) at.value = "";
  });
})();
