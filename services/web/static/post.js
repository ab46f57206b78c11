// Postsortering: route or correct a mail in one click, retrain, promote or discard a candidate model.
// Every change goes through the JSON API under /api/mail with the session's CSRF token; the result is
// announced in the page's live region.
"use strict";

(function () {
  const statusRegion = document.getElementById("post-status");
  const labelsHolder = document.querySelector("[data-status-labels]");
  const statusLabels = labelsHolder ? JSON.parse(labelsHolder.dataset.statusLabels) : {};
  const modelsSection = document.getElementById("modeller");

  function announce(message, isError) {
    statusRegion.textContent = message;
    statusRegion.classList.toggle("error", Boolean(isError));
  }

  // A JSON API call; a refusal throws an Error carrying the API's Danish message.
  const callApi = window.kai.api;

  // While a request runs, its buttons say so and a second press is ignored. They are marked, not disabled:
  // disabling the focused button would drop a keyboard user's focus.
  async function whileBusy(container, work) {
    if (container.getAttribute("aria-busy") === "true") {
      return;
    }
    const buttons = Array.from(container.querySelectorAll("button"));
    buttons.forEach((button) => button.setAttribute("aria-disabled", "true"));
    container.setAttribute("aria-busy", "true");
    try {
      await work();
    } finally {
      container.removeAttribute("aria-busy");
      buttons.forEach((button) => button.removeAttribute("aria-disabled"));
    }
  }

  // --- mails -------------------------------------------------------------------------------------------

  function showDecision(mail) {
    const text = `${statusLabels[mail.status] ?? mail.status}: ${mail.final_queue}`;
    document.querySelectorAll(`[data-mail-status="${CSS.escape(mail.id)}"]`).forEach((cell) => {
      cell.textContent = text;
    });
    document.querySelectorAll(`tr[data-mail-id="${CSS.escape(mail.id)}"] select`).forEach((select) => {
      select.value = mail.final_queue;
    });
  }

  async function sendToQueue(row, mailId, queue) {
    await whileBusy(row, async () => {
      try {
        const mail = await callApi("POST", `/api/mail/mails/${encodeURIComponent(mailId)}/queue`, { queue });
        showDecision(mail);
        announce(`«${mail.subject || "(intet emne)"}» er sendt til ${mail.final_queue}.`);
      } catch (error) {
        announce(error.message, true);
      }
    });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.post-route");
    if (button) {
      sendToQueue(button.closest("tr"), button.dataset.mailId, button.dataset.queue);
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form.route-other");
    if (form) {
      event.preventDefault();
      sendToQueue(form.closest("tr"), form.dataset.mailId, form.elements.queue.value);
    }
  });

  // --- models ------------------------------------------------------------------------------------------

  async function refreshModels(focusId) {
    const response = await fetch("/post/modeller", { credentials: "same-origin" });
    if (!response.ok) {
      throw new Error("Modellerne kunne ikke hentes igen; genindlæs siden.");
    }
    modelsSection.innerHTML = await response.text();
    const target = document.getElementById(focusId) ?? document.getElementById("modeller-titel");
    target?.focus();
  }

  const modelActions = {
    async retrain() {
      announce("Træner en kandidat. Det kan tage et minut …");
      const report = await callApi("POST", "/api/mail/models/retrain?promote=false");
      await refreshModels("kandidat-titel");
      return `Kandidat ${report.candidate} er trænet. Sammenlign tallene, og forfrem eller kassér den.`;
    },
    async promote(version) {
      const confirm = document.getElementById("bekraeft-forfremmelse")?.checked ?? false;
      const url = `/api/mail/models/${encodeURIComponent(version)}/promote?confirm_worse=${confirm}`;
      await callApi("POST", url);
      await refreshModels("modeller-titel");
      return `Model ${version} er nu aktiv.`;
    },
    async discard(version) {
      await callApi("DELETE", `/api/mail/models/${encodeURIComponent(version)}`);
      await refreshModels("modeller-titel");
      return `Kandidat ${version} er kasseret.`;
    },
    async restore(version) {
      await callApi("POST", `/api/mail/models/${encodeURIComponent(version)}/restore`);
      await refreshModels("modeller-titel");
      return `Model ${version} er aktiv igen.`;
    },
  };

  modelsSection?.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-model-action]");
    if (!button) {
      return;
    }
    const action = modelActions[button.dataset.modelAction];
    whileBusy(modelsSection, async () => {
      try {
        announce(await action(button.dataset.version));
      } catch (error) {
        announce(error.message, true);
      }
    });
  });
})();
