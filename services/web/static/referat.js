/* Referat: upload with a live progress bar, and the review page (audio that follows the transcript, edits,
   speaker names, approval with the measured active review time). Talks to the JSON API under /api/minutes. */
"use strict";

(() => {
  const API = "/api/minutes/meetings";
  const POLL_MS = 1000;
  const POLL_RETRIES = 5; // consecutive failed polls before the page gives up
  const OPEN_REVIEW_DELAY_MS = 1200; // let "100 %" be seen (and heard) before the review page opens
  const IDLE_LIMIT_MS = 60_000; // no interaction for this long stops the review clock (unless audio plays)
  const MAX_TICK_MS = 5_000; // a longer gap (sleep, throttled timer) is not counted as review time
  const { ApiError, NETWORK_ERROR, csrfToken, errorText: detailOf } = window.kai;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** A call to the minutes API (``path`` under /api/minutes/meetings); the JSON answer or an ApiError. */
  const api = (method, path, body) => window.kai.api(method, API + path, body);

  /** POST the upload form. XMLHttpRequest rather than fetch(): only it reports upload progress. */
  function uploadRecording(formData, onProgress) {
    const request = new XMLHttpRequest();
    const done = new Promise((resolve, reject) => {
      request.open("POST", API);
      request.setRequestHeader("X-CSRF-Token", csrfToken());
      request.responseType = "json";
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress((100 * event.loaded) / event.total);
      });
      request.addEventListener("load", () => {
        if (request.status === 202) resolve(request.response);
        else reject(new ApiError(detailOf(request.response, request.status)));
      });
      request.addEventListener("error", () => reject(new ApiError(NETWORK_ERROR)));
      request.addEventListener("abort", () => reject(new ApiError("Uploaden blev annulleret.")));
      request.send(formData);
    });
    return { done, abort: () => request.abort() };
  }

  /** The progress box (referat_job.html): a <progress>, a polite status line and a detail line. */
  class JobView {
    constructor(root) {
      this.root = root;
      this.title = root.querySelector("#job-title");
      this.bar = root.querySelector("#job-progress");
      this.status = root.querySelector("#job-status");
      this.detail = root.querySelector("#job-detail");
      this.error = root.querySelector("#job-error");
      this.cancelButton = root.querySelector("#job-cancel");
      this.announced = "";
    }

    show() {
      this.root.hidden = false;
      this.error.hidden = true;
      this.cancelButton.hidden = false;
      this.cancelButton.disabled = false;
      this.announced = "";
      this.set("Starter", 0, "");
      this.title.focus();
    }

    hide() {
      this.root.hidden = true;
    }

    set(phase, percent, detail) {
      const value = Math.max(0, Math.min(100, Math.round(percent)));
      this.bar.value = value;
      this.bar.textContent = `${value} %`;
      // The status line is a live region: it speaks on a new phase or every 10 %, not on every poll.
      const step = `${phase}:${Math.floor(value / 10)}`;
      if (step !== this.announced) {
        this.announced = step;
        this.status.textContent = `${phase}: ${value} %`;
      }
      this.detail.textContent = detail ? `${value} % – ${detail}` : `${value} %`;
    }

    fail(message) {
      this.error.textContent = message;
      this.error.hidden = false;
      this.cancelButton.hidden = true;
    }
  }

  /** Poll the meeting's job until it is done; throws an ApiError with a Danish message otherwise. */
  async function followJob(meetingId, view) {
    let failures = 0;
    for (;;) {
      let meeting;
      try {
        meeting = await api("GET", `/${meetingId}`);
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures >= POLL_RETRIES) throw error;
        await sleep(POLL_MS);
        continue;
      }
      const job = meeting.job;
      if (!job) throw new ApiError("Mødet har ingen behandling at følge.");
      if (job.status === "done") {
        view.set("Færdig", 100, "Åbner gennemsynet …");
        return;
      }
      if (job.status === "failed") {
        throw new ApiError(`Behandlingen mislykkedes: ${meeting.failure || job.error || "ukendt fejl"}`);
      }
      if (job.status === "cancelled") {
        throw new ApiError(
          "Behandlingen blev annulleret. Optagelsen er ikke skrevet ud; du kan slette mødet.",
        );
      }
      view.set(job.status === "queued" ? "I kø" : "Behandler optagelsen", job.progress, job.message);
      await sleep(POLL_MS);
    }
  }

  // --- upload page --------------------------------------------------------------------------------------

  function initUpload(form) {
    const view = new JobView(document.getElementById("job"));
    const errorBox = document.getElementById("upload-error");
    const submit = form.querySelector('button[type="submit"]');
    let cancel = null;

    const showError = (message) => {
      errorBox.textContent = message;
      errorBox.hidden = false;
    };

    view.cancelButton.addEventListener("click", () => {
      view.cancelButton.disabled = true;
      cancel?.();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorBox.hidden = true;
      const file = form.elements.file.files[0];
      if (file && file.size > Number(form.dataset.maxBytes)) {
        showError(`Filen er større end grænsen på ${form.dataset.maxMb} MB.`);
        return;
      }
      const data = new FormData(form);
      for (const [key, value] of [...data.entries()]) {
        if (value === "") data.delete(key); // an empty optional field means "not given"
      }
      submit.disabled = true;
      view.show();
      try {
        const upload = uploadRecording(data, (percent) => view.set("Uploader optagelsen", percent, ""));
        cancel = upload.abort;
        const meeting = await upload.done;
        cancel = () => api("POST", `/${meeting.id}/cancel`).catch((error) => view.fail(error.message));
        await followJob(meeting.id, view);
        setTimeout(() => window.location.assign(`/referat/${meeting.id}`), OPEN_REVIEW_DELAY_MS);
      } catch (error) {
        view.hide();
        showError(error.message);
        submit.disabled = false;
        errorBox.focus();
      } finally {
        cancel = null;
      }
    });
  }

  /** The meeting page of a meeting still being processed: follow it, reload when it is done. */
  async function followOnMeetingPage(root) {
    const view = new JobView(root);
    const meetingId = root.dataset.meetingId;
    view.cancelButton.addEventListener("click", () => {
      view.cancelButton.disabled = true;
      api("POST", `/${meetingId}/cancel`).catch((error) => view.fail(error.message));
    });
    try {
      await followJob(meetingId, view);
      setTimeout(() => window.location.reload(), OPEN_REVIEW_DELAY_MS);
    } catch (error) {
      view.fail(error.message);
    }
  }

  // --- review page: playback that follows the text -------------------------------------------------------

  function initPlayback(review, audio) {
    const list = document.getElementById("segments");
    const segments = [...list.querySelectorAll("li.segment")].map((element) => ({
      element,
      start: Number(element.dataset.start),
      end: Number(element.dataset.end),
    }));

    const playFrom = (seconds) => {
      audio.currentTime = seconds;
      // A refused play() (autoplay policy, no sound device) still leaves the position moved.
      audio.play().catch(() => {});
    };

    review.addEventListener("click", (event) => {
      const seek = event.target.closest("button.seek");
      if (seek) {
        playFrom(Number(seek.dataset.start));
        return;
      }
      const segment = event.target.closest("li.segment");
      if (!segment || event.target.closest("button, input, textarea, select, label, form")) return;
      if (window.getSelection()?.toString()) return; // selecting text to copy it is not a request to play
      playFrom(Number(segment.dataset.start));
    });

    // Keep the current line in view: inside the list when it scrolls on its own (wide screens), else the
    // page, but never pull the page away from a field the person is typing in.
    const reveal = (element) => {
      if (list.scrollHeight > list.clientHeight) {
        const top = element.offsetTop;
        if (top < list.scrollTop || top + element.offsetHeight > list.scrollTop + list.clientHeight) {
          list.scrollTop = top - list.clientHeight / 3;
        }
      } else if (!document.activeElement?.matches("input, textarea, select")) {
        element.scrollIntoView({ block: "nearest" });
      }
    };

    let current = null;
    audio.addEventListener("timeupdate", () => {
      const time = audio.currentTime;
      const found = segments.find((s) => time >= s.start && time < s.end)?.element ?? null;
      if (found === current) return;
      current?.classList.remove("current");
      current?.removeAttribute("aria-current");
      current = found;
      if (found) {
        found.classList.add("current");
        found.setAttribute("aria-current", "true");
        if (!audio.paused) reveal(found);
      }
    });
  }

  // --- review page: the active review time ---------------------------------------------------------------

  /** Counts time only while the tab is visible and the person interacted within a minute (or listens). */
  class ReviewClock {
    constructor(meetingId, audio, output) {
      this.key = `kai-referat-gennemsyn-${meetingId}`;
      this.audio = audio;
      this.output = output;
      this.activeMs = Number(this.load()) || 0; // survives a reload of the page
      this.lastActivity = Date.now();
      this.lastTick = Date.now();
      const touch = () => {
        this.lastActivity = Date.now();
      };
      const interactions = ["pointerdown", "pointermove", "keydown", "wheel", "scroll", "input"];
      for (const type of interactions) {
        document.addEventListener(type, touch, { capture: true, passive: true });
      }
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "hidden") this.tick(true);
        else this.lastTick = Date.now(); // the hidden time is not counted
      });
      setInterval(() => this.tick(), 1000);
      this.render();
    }

    tick(wasVisible = document.visibilityState === "visible") {
      const now = Date.now();
      const elapsed = now - this.lastTick;
      this.lastTick = now;
      const engaged = now - this.lastActivity <= IDLE_LIMIT_MS || !this.audio.paused;
      if (wasVisible && engaged) {
        this.activeMs += Math.min(elapsed, MAX_TICK_MS);
        this.store(String(this.activeMs));
        this.render();
      }
    }

    get seconds() {
      return Math.round(this.activeMs / 100) / 10;
    }

    render() {
      const total = Math.floor(this.activeMs / 1000);
      this.output.textContent = `${Math.floor(total / 60)} min. ${total % 60} sek.`;
    }

    load() {
      try {
        return sessionStorage.getItem(this.key);
      } catch {
        return null; // storage switched off: the clock starts from zero on a reload
      }
    }

    store(value) {
      try {
        if (value === null) sessionStorage.removeItem(this.key);
        else sessionStorage.setItem(this.key, value);
      } catch {
        /* storage switched off: nothing to keep */
      }
    }
  }

  // --- review page: the minutes form ---------------------------------------------------------------------

  const linesOf = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);
  const namesOf = (text) => text.split(",").map((name) => name.trim()).filter(Boolean);

  class MinutesEditor {
    constructor(form, stored, meetingId) {
      this.form = form;
      this.stored = stored; // the minutes as saved: keeps what the form does not show (times, segment ids)
      this.meetingId = meetingId;
      this.status = document.getElementById("minutes-status");
      this.dirty = false;
      form.addEventListener("input", (event) => {
        // The item review saves itself; only the minutes' own fields wait for "Gem referat".
        if (!event.target.closest(".review-list, .review-add")) this.dirty = true;
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await this.save();
        } catch (error) {
          this.status.textContent = error.message;
        }
      });
    }

    collect() {
      const form = this.form;
      return {
        ...this.stored,
        title: form.querySelector("#m-title").value.trim() || this.stored.title,
        meeting_date: form.querySelector("#m-date").value || null,
        participants: namesOf(form.querySelector("#m-participants").value),
        sections: this.stored.sections.map((section, index) => {
          const box = form.querySelector(`fieldset.agenda-item[data-index="${index}"]`);
          return {
            ...section,
            title: box.querySelector(`#s${index}-title`).value.trim() || section.title,
            summary: linesOf(box.querySelector(`#s${index}-summary`).value),
            // Decisions and actions are the item review's: the API keeps the reviewed ones.
          };
        }),
      };
    }

    async save() {
      this.status.textContent = "Gemmer referatet …";
      this.stored = await api("PUT", `/${this.meetingId}/minutes`, this.collect());
      this.dirty = false;
      const time = new Date().toLocaleTimeString("da-DK", { hour: "2-digit", minute: "2-digit" });
      this.status.textContent = `Referatet er gemt kl. ${time}.`;
    }

    /** A speaker got a new name: action owners named after the old one follow (as the API does). */
    renameOwner(oldName, newName) {
      for (const section of this.stored.sections) {
        for (const action of section.actions) {
          if (action.who === oldName) action.who = newName;
        }
      }
    }
  }

  // --- review page: the draft's decisions and actions, each accepted, edited or removed ---------------------

  const STATUS_LABELS = {
    proposed: "Foreslået",
    accepted: "Godkendt",
    edited: "Rettet",
    removed: "Fjernet",
    added: "Tilføjet",
  };
  const KIND_LABELS = { decision: "Beslutning", action: "Handlingspunkt" };

  function clockText(seconds) {
    const total = Math.floor(seconds);
    const pad = (n) => String(n).padStart(2, "0");
    const hours = Math.floor(total / 3600);
    const rest = `${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
    return hours ? `${hours}:${rest}` : rest;
  }

  class ItemReview {
    constructor(form, meetingId, state) {
      this.form = form;
      this.meetingId = meetingId;
      this.status = document.getElementById("minutes-status");
      this.counts = document.getElementById("review-counts");
      this.render(state);
      form.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-act], button.add-review");
        if (!button) return;
        if (button.classList.contains("add-review")) this.openEditor(null, button);
        else this.act(button.dataset.act, button.closest("li.review-item"));
      });
    }

    render(state) {
      this.state = state;
      for (const list of this.form.querySelectorAll("ul.review-list")) list.replaceChildren();
      const numbers = { decision: new Map(), action: new Map() };
      for (const item of state.items) {
        const list = this.form.querySelector(`ul.review-list[data-section="${item.section}"]`);
        if (!list) continue;
        const n = (numbers[item.kind].get(item.section) || 0) + 1;
        numbers[item.kind].set(item.section, n);
        list.append(this.itemElement(item, `${list.dataset.number}.${n}`));
      }
      const line = (c, name) =>
        `${name}: ${c.proposed} foreslået, ${c.accepted - c.unmarked} godkendt, ${c.edited} rettet, ` +
        `${c.removed} fjernet, ${c.added} tilføjet`;
      this.counts.textContent =
        `${line(state.decisions, "Beslutninger")}. ${line(state.actions, "Handlingspunkter")}.`;
    }

    itemElement(item, number) {
      const kind = KIND_LABELS[item.kind];
      const name = `${kind.toLowerCase()} ${number}`;
      const li = element("li", {
        class: `review-item status-${item.status}`,
        "data-key": item.key,
        "data-kind": item.kind,
        "data-status": item.status,
      });
      const head = element("p", { class: "item-head" });
      head.append(
        element("strong", {}, `${kind} ${number}`),
        " ",
        element("span", { class: "badge" }, STATUS_LABELS[item.status]),
      );
      li.append(head, element("p", { class: "item-text" }, item.text));
      if (item.kind === "action") {
        const details = [`Ansvarlig: ${item.who || "ikke angivet"}`, `Frist: ${item.deadline || "ingen"}`];
        li.append(element("p", { class: "item-details" }, details.join(" · ")));
      }
      if (item.status === "edited" && item.original_text && item.original_text !== item.text) {
        li.append(element("p", { class: "item-original" }, `Udkastet: ${item.original_text}`));
      }
      const buttons = element("div", { class: "buttons" });
      const button = (act, text, label) =>
        element("button", { type: "button", class: "secondary", "data-act": act, "aria-label": label }, text);
      const seekLabel = `Afspil ${name} fra ${clockText(item.start)}`;
      const seek = element("button", {
        type: "button",
        class: "seek secondary",
        "data-start": String(item.start),
      });
      seek.textContent = `Afspil fra ${clockText(item.start)}`;
      seek.setAttribute("aria-label", seekLabel);
      if (item.segment !== null) seek.dataset.segment = String(item.segment);
      buttons.append(seek);
      if (item.status === "removed") {
        buttons.append(button("undo", "Fortryd", `Fortryd fjernelsen af ${name}`));
      } else {
        if (item.status !== "accepted" && item.status !== "added") {
          buttons.append(button("accept", "Godkend", `Godkend ${name}`));
        }
        buttons.append(button("edit", "Ret", `Ret ${name}`), button("remove", "Fjern", `Fjern ${name}`));
        if (item.status === "accepted" || item.status === "edited") {
          buttons.append(button("undo", "Fortryd", `Fortryd vurderingen af ${name}`));
        }
      }
      li.append(buttons);
      return li;
    }

    async reload(message) {
      this.render(await api("GET", `/${this.meetingId}/review`));
      this.status.textContent = message;
    }

    async act(act, li) {
      const item = this.state.items.find((candidate) => candidate.key === li.dataset.key);
      if (act === "edit") {
        this.openEditor(item, li);
        return;
      }
      const status = { accept: "accepted", remove: "removed", undo: "proposed" }[act];
      try {
        await api("PUT", `/${this.meetingId}/review/items/${encodeURIComponent(item.key)}`, { status });
        const done = { accept: "godkendt", remove: "fjernet", undo: "sat tilbage til forslag" }[act];
        await this.reload(`${KIND_LABELS[item.kind]}en er ${done}.`);
      } catch (error) {
        this.status.textContent = error.message;
      }
    }

    /** An inline editor for ``item`` (null: a new one of ``anchor``'s kind and section). */
    openEditor(item, anchor) {
      this.form.querySelector(".item-editor")?.remove();
      const kind = item ? item.kind : anchor.dataset.kind;
      const id = `item-editor-${item ? item.key.replace(/[^a-z0-9]/gi, "-") : "new"}`;
      const box = element("div", {
        class: "item-editor",
        role: "group",
        "aria-label": item ? "Ret punktet" : `Ny ${KIND_LABELS[kind].toLowerCase()}`,
      });
      const text = element("textarea", { id: `${id}-text`, rows: "2", maxlength: "2000" });
      text.value = item ? item.text : "";
      box.append(element("label", { for: text.id }, kind === "action" ? "Opgave" : "Beslutningens tekst"), text);
      let who = null;
      let deadline = null;
      if (kind === "action") {
        who = element("input", { type: "text", id: `${id}-who`, maxlength: "128", list: "participant-names" });
        who.value = item?.who || "";
        deadline = element("input", { type: "text", id: `${id}-deadline`, maxlength: "64" });
        deadline.value = item?.deadline || "";
        box.append(
          element("label", { for: who.id }, "Ansvarlig"),
          who,
          element("label", { for: deadline.id }, "Frist (dato ÅÅÅÅ-MM-DD eller som sagt)"),
          deadline,
        );
      }
      const error = element("p", { class: "error", role: "alert", hidden: "" });
      const buttons = element("div", { class: "buttons" });
      const save = element("button", { type: "button" }, item ? "Gem rettelsen" : "Tilføj");
      const cancel = element("button", { type: "button", class: "secondary" }, "Annullér");
      buttons.append(save, cancel);
      box.append(buttons, error);
      cancel.addEventListener("click", () => box.remove());
      save.addEventListener("click", async () => {
        const body = { text: text.value };
        if (kind === "action") {
          body.who = who.value.trim() || null;
          body.deadline = deadline.value.trim() || null;
        }
        try {
          if (item) {
            const path = `/${this.meetingId}/review/items/${encodeURIComponent(item.key)}`;
            await api("PUT", path, { status: "edited", ...body });
          } else {
            await api("POST", `/${this.meetingId}/review/items`, {
              kind,
              section: Number(anchor.dataset.section),
              ...body,
            });
          }
          box.remove();
          await this.reload(item ? "Rettelsen er gemt." : `${KIND_LABELS[kind]}en er tilføjet.`);
        } catch (failure) {
          error.textContent = failure.message;
          error.hidden = false;
        }
      });
      if (item) anchor.append(box);
      else anchor.parentElement.append(box);
      text.focus();
    }
  }

  // --- review page: transcript edits and speaker names ---------------------------------------------------

  const speakerSpans = (label) =>
    document.querySelectorAll(`#segments .speaker[data-label="${CSS.escape(label)}"]`);

  function displayName(label) {
    return speakerSpans(label)[0]?.textContent.trim() || label;
  }

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  function initSpeakerForm(form, meetingId, editor) {
    const status = document.getElementById("speaker-status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const inputs = [...form.querySelectorAll("input[data-label]")];
      const labelsOf = inputs.map((input) => input.dataset.label);
      const before = Object.fromEntries(labelsOf.map((label) => [label, displayName(label)]));
      status.textContent = "Gemmer navnene …";
      try {
        if (editor.dirty) await editor.save(); // the API renames owners in the stored minutes
        const names = Object.fromEntries(inputs.map((input) => [input.dataset.label, input.value.trim()]));
        const transcript = await api("PUT", `/${meetingId}/speakers`, { speakers: names });
        for (const label of Object.keys(names)) {
          const name = transcript.speakers[label] || label;
          for (const span of speakerSpans(label)) span.textContent = name;
          editor.renameOwner(before[label], name);
        }
        status.textContent = "Navnene er gemt, og transskriptionen er opdateret.";
      } catch (error) {
        status.textContent = error.message;
      }
    });
  }

  function initSegmentEditing(review, meetingId) {
    const labels = () => {
      const spans = review.querySelectorAll("#segments .speaker");
      return [...new Set([...spans].map((span) => span.dataset.label))];
    };

    const close = (segment) => {
      segment.querySelector("form.segment-editor")?.remove();
      segment.querySelector("p.text").hidden = false;
      const button = segment.querySelector("button.edit-segment");
      button.hidden = false;
      button.focus();
    };

    const open = (segment) => {
      const id = segment.dataset.id;
      const time = segment.querySelector("button.seek").textContent.trim();
      const text = segment.querySelector("p.text");
      const speaker = segment.querySelector(".speaker");
      const form = element("form", { class: "segment-editor" });
      const textarea = element("textarea", { id: `edit-${id}`, rows: "3" });
      textarea.value = text.textContent.trim();
      const select = element("select", { id: `edit-${id}-speaker` });
      for (const label of labels()) {
        const option = element("option", { value: label }, label ? displayName(label) : "(ingen taler)");
        option.selected = label === speaker.dataset.label;
        select.append(option);
      }
      const error = element("p", { class: "error", role: "alert", hidden: "" });
      const buttons = element("div", { class: "buttons" });
      const cancel = element("button", { type: "button", class: "secondary" }, "Annullér");
      buttons.append(element("button", { type: "submit" }, "Gem linjen"), cancel);
      form.append(
        element("label", { for: textarea.id }, `Tekst ved ${time}`),
        textarea,
        element("label", { for: select.id }, "Taler"),
        select,
        buttons,
        error,
      );
      cancel.addEventListener("click", () => close(segment));
      form.addEventListener("keydown", (event) => {
        if (event.key === "Escape") close(segment);
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const edit = { id: Number(id), text: textarea.value };
        if (select.value) edit.speaker = select.value;
        try {
          const transcript = await api("PATCH", `/${meetingId}/transcript`, { segments: [edit] });
          const saved = transcript.segments.find((s) => String(s.id) === id);
          text.textContent = saved.text;
          speaker.dataset.label = saved.speaker ?? "";
          speaker.textContent = saved.speaker ? transcript.speakers[saved.speaker] || saved.speaker : "";
          close(segment);
        } catch (failure) {
          error.textContent = failure.message;
          error.hidden = false;
        }
      });
      text.hidden = true;
      segment.querySelector("button.edit-segment").hidden = true;
      segment.append(form);
      textarea.focus();
    };

    review.addEventListener("click", (event) => {
      const button = event.target.closest("button.edit-segment");
      if (button) open(button.closest("li.segment"));
    });
  }

  // --- review page: approve and delete -------------------------------------------------------------------

  let leaving = false; // set before a deliberate navigation, so the unsaved-changes warning stays quiet

  function initApprove(button, meetingId, editor, clock) {
    const status = document.getElementById("approve-status");
    button.addEventListener("click", async () => {
      if (document.querySelector("form.segment-editor")) {
        status.textContent = "Gem eller annullér rettelsen i transskriptionen, før du godkender.";
        return;
      }
      if (!window.confirm("Godkend referatet? Derefter kan det ikke længere ændres.")) return;
      button.disabled = true;
      status.textContent = "Godkender …";
      try {
        if (editor.dirty) await editor.save();
        clock.tick();
        await api("POST", `/${meetingId}/approve`, { review_seconds: clock.seconds });
        clock.store(null);
        leaving = true;
        window.location.reload();
      } catch (error) {
        status.textContent = error.message;
        button.disabled = false;
      }
    });
    window.addEventListener("beforeunload", (event) => {
      if (!leaving && (editor.dirty || document.querySelector("form.segment-editor"))) event.preventDefault();
    });
  }

  // --- the owner's sharing ---------------------------------------------------------------------------------

  function initSharing(form) {
    const status = document.getElementById("share-status");
    const usersInput = form.querySelector("#share-users");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const users = namesOf(usersInput.value);
      const roles = [...form.querySelectorAll('input[name="roles"]:checked')].map((box) => box.value);
      status.textContent = "Gemmer delingen …";
      try {
        const saved = await api("PUT", `/${form.dataset.meetingId}/access`, { users, roles });
        usersInput.value = saved.users.join(", ");
        const shared = saved.users.length + saved.roles.length;
        status.textContent = shared
          ? "Delingen er gemt."
          : "Delingen er gemt: mødet er ikke delt med nogen.";
      } catch (error) {
        status.textContent = error.message;
      }
    });
  }

  function initDelete(button) {
    const errorBox = document.getElementById("delete-error");
    button.addEventListener("click", async () => {
      const question = "Slet mødet med optagelse, transskription og referat? Det kan ikke fortrydes.";
      if (!window.confirm(question)) return;
      try {
        await api("DELETE", `/${button.dataset.meetingId}`);
        leaving = true;
        window.location.assign("/referat?slettet=1");
      } catch (error) {
        errorBox.textContent = error.message;
        errorBox.hidden = false;
      }
    });
  }

  function initReview(review) {
    const meetingId = review.dataset.meetingId;
    const audio = document.getElementById("audio");
    initPlayback(review, audio);
    const minutesForm = document.getElementById("minutes-form");
    if (!minutesForm) return; // approved: read only
    const clock = new ReviewClock(meetingId, audio, document.getElementById("review-time"));
    const stored = JSON.parse(document.getElementById("minutes-data").textContent);
    const editor = new MinutesEditor(minutesForm, stored, meetingId);
    new ItemReview(minutesForm, meetingId, JSON.parse(document.getElementById("review-data").textContent));
    const speakerForm = document.getElementById("speaker-form");
    if (speakerForm) initSpeakerForm(speakerForm, meetingId, editor);
    initSegmentEditing(review, meetingId);
    initApprove(document.getElementById("approve"), meetingId, editor, clock);
  }

  const uploadForm = document.getElementById("upload-form");
  if (uploadForm) initUpload(uploadForm);
  const job = document.querySelector("#job[data-meeting-id]");
  if (job) followOnMeetingPage(job);
  const review = document.getElementById("review");
  if (review) initReview(review);
  const shareForm = document.getElementById("share-form");
  if (shareForm) initSharing(shareForm);
  const deleteButton = document.getElementById("delete-meeting");
  if (deleteButton) initDelete(deleteButton);
})();
