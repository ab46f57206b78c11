// Huller i vejledningen: an editor attaches an asked question to the § or guide that answers it
// (POST /api/chat/expansions) and can undo it (DELETE /api/chat/expansions/{id}). Server text is only ever
// set with textContent (never innerHTML).
"use strict";

(() => {
  const units = new Map(
    Array.from(document.querySelectorAll("#kilder option"), (option) => [option.value, option.dataset]),
  );

  function undoButton(id, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "undo";
    button.dataset.expansion = String(id);
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ` tilføjelsen til ${label}`;
    button.append("Fortryd", hidden);
    return button;
  }

  async function attach(form) {
    const input = form.elements.namedItem("kilde");
    const status = form.querySelector(".attach-status");
    const unit = units.get(input.value.trim());
    if (!unit) {
      status.textContent = "Vælg en kilde fra listen (skriv fx «§ 47» eller navnet på vejledningen).";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const added = await window.kai.api("POST", "/api/chat/expansions", {
        answer_id: form.dataset.answer,
        collection: unit.collection,
        source: unit.source,
        section: unit.section,
      });
      const item = document.createElement("li");
      item.append(`${added.label} `, undoButton(added.id, added.label));
      form.parentElement.querySelector("ul.attached").append(item);
      input.value = "";
      status.textContent = `Tilføjet: spørgsmålet hjælper nu med at finde ${added.label}.`;
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  async function undo(button) {
    const cell = button.closest("td");
    const status = cell.querySelector(".attach-status");
    button.disabled = true;
    try {
      await window.kai.api("DELETE", `/api/chat/expansions/${button.dataset.expansion}`);
      button.closest("li").remove();
      status.textContent = "Fortrudt: spørgsmålet er ikke længere knyttet til kilden.";
      cell.querySelector("input").focus();
    } catch (error) {
      button.disabled = false;
      status.textContent = error.message;
    }
  }

  document.addEventListener("submit", (event) => {
    if (!event.target.matches("form.attach")) return;
    event.preventDefault();
    attach(event.target);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.undo");
    if (button) undo(button);
  });
})();
