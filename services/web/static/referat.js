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
  const valueOf = (root, field) => root.querySelector(`[data-field="${field}"]`).value.trim();
  const startOf = (item, fallback) =>
    item.dataset.start === undefined ? fallback : Number(item.dataset.start);

  class MinutesEditor {
    constructor(form, stored, meetingId) {
      this.form = form;
      this.stored = stored; // the minutes as saved: keeps what the form does not show (times, segment ids)
      this.meetingId = meetingId;
      this.status = document.getElementById("minutes-status");
      this.dirty = false;
      form.addEventListener("input", () => {
        this.dirty = true;
      });
      form.addEventListener("click", (event) => {
        const add = event.target.closest("button.add-item");
        if (add) this.addItem(add);
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

    addItem(button) {
      const kind = button.dataset.kind;
      const list = button.parentElement.querySelector(`ul[data-kind="${kind}"]`);
      const section = button.closest("fieldset.agenda-item").dataset.index;
      const html = document
        .getElementById(`${kind}-template`)
        .innerHTML.replaceAll("__S__", section)
        .replaceAll("__N__", String(list.children.length + 1));
      list.insertAdjacentHTML("beforeend", html);
      list.lastElementChild.querySelector("textarea, input").focus();
      this.dirty = true;
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
          const items = (kind) => [...box.querySelectorAll(`ul[data-kind="${kind}"] > li`)];
          return {
            ...section,
            title: box.querySelector(`#s${index}-title`).value.trim() || section.title,
            summary: linesOf(box.querySelector(`#s${index}-summary`).value),
            decisions: items("decisions")
              .map((item) => ({
                text: valueOf(item, "text"),
                start: startOf(item, section.start),
                speaker: item.dataset.speaker || null,
              }))
              .filter((decision) => decision.text),
            actions: items("actions")
              .map((item) => ({
                what: valueOf(item, "what"),
                who: valueOf(item, "who") || null,
                deadline: valueOf(item, "deadline") || null,
                start: startOf(item, section.start),
                speaker: item.dataset.speaker || null,
              }))
              .filter((action) => action.what),
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
      for (const input of this.form.querySelectorAll('input[data-field="who"]')) {
        if (input.value.trim() === oldName) input.value = newName;
      }
      for (const section of this.stored.sections) {
        for (const action of section.actions) {
          if (action.who === oldName) action.who = newName;
        }
      }
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
