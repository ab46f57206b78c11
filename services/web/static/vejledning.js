// Spørg vejledningen: asks /api/chat/ask and shows the answer, its citations and highlighted passages,
// and sends feedback to /api/chat/feedback. Server text is only ever set with textContent (never innerHTML).
"use strict";

(() => {
  const form = document.getElementById("spoerg");
  if (!form) return; // the role reads no collection: nothing to ask
  const log = document.getElementById("samtale");
  const emptyHint = document.getElementById("tom-samtale");
  const question = document.getElementById("spoergsmaal");
  const collection = document.getElementById("samling");
  const sendButton = document.getElementById("send");
  const newButton = document.getElementById("ny-samtale");
  const errorBox = document.getElementById("spoerg-fejl");
  const status = document.getElementById("spoerg-status");
  const SVG_NS = "http://www.w3.org/2000/svg";
  const THUMB_PATH =
    "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";

  let conversationId = null;
  let turns = 0;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function hiddenText(text) {
    return element("span", "visually-hidden", text);
  }

  const postJson = (url, body) => window.kai.api("POST", url, body);

  // "Text [1] more [2]" → text nodes and links to the numbered citations of this turn.
  function answerParagraph(text, turn, citationCount) {
    const paragraph = element("p");
    let last = 0;
    for (const match of text.matchAll(/\[(\d+)\]/g)) {
      const number = Number(match[1]);
      if (number < 1 || number > citationCount) continue;
      paragraph.append(text.slice(last, match.index));
      const link = element("a", "cite-mark");
      link.href = `#kilde-${turn}-${number}`;
      link.append(hiddenText("kilde "), `[${number}]`);
      paragraph.append(link);
      last = match.index + match[0].length;
    }
    paragraph.append(text.slice(last));
    return paragraph;
  }

  function citationList(citations, turn) {
    const list = element("ol", "citations");
    citations.forEach((citation, index) => {
      const item = element("li");
      item.id = `kilde-${turn}-${index + 1}`;
      const link = element("a", null, citation.title);
      // Only web addresses and kai's own paths become links (never javascript: or data: from a document).
      link.href = /^(https?:\/\/|\/[^/])/.test(citation.url) ? citation.url : "#";
      // Open beside the conversation, so it is not lost (laws go to Retsinformation, guides to kai's copy).
      link.target = "_blank";
      link.rel = "noopener";
      link.append(hiddenText(" (åbner i nyt vindue)"));
      item.append(link);
      if (/^https?:\/\//.test(citation.url)) item.append(element("span", "source-kind", " – Retsinformation"));
      list.append(item);
    });
    return list;
  }

  // The passage with its highlight spans in <mark>; spans count code points, as the server's strings do.
  function passageFigure(passage, turn) {
    const figure = element("figure", "passage");
    const caption = element("figcaption");
    const link = element("a", null, `[${passage.citation}]`);
    link.href = `#kilde-${turn}-${passage.citation}`;
    link.prepend(hiddenText("kilde "));
    caption.append(link, ` ${passage.title}`);
    const quote = element("blockquote");
    const characters = Array.from(passage.text);
    let last = 0;
    for (const [start, end] of passage.highlights) {
      quote.append(characters.slice(last, start).join(""));
      quote.append(element("mark", null, characters.slice(start, end).join("")));
      last = end;
    }
    quote.append(characters.slice(last).join(""));
    figure.append(caption, quote);
    return figure;
  }

  function thumbButton(label, helpful) {
    const button = element("button", `thumb ${helpful ? "thumb-up" : "thumb-down"}`);
    button.type = "button";
    button.setAttribute("aria-pressed", "false");
    button.dataset.helpful = String(helpful);
    const icon = document.createElementNS(SVG_NS, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", THUMB_PATH);
    icon.append(path);
    button.append(icon, ` ${label}`);
    return button;
  }

  function feedbackForm(answerId, turn, abstained) {
    const feedback = element("form", "feedback");
    feedback.noValidate = true;
    const choice = element("fieldset");
    choice.append(element("legend", null, "Var svaret til hjælp?"));
    const up = thumbButton("Ja", true);
    const down = thumbButton("Nej", false);
    choice.append(up, down);
    feedback.append(choice);
    let minutes = null;
    if (!abstained) {
      const field = element("div", "field");
      minutes = element("input");
      minutes.type = "number";
      minutes.id = `minutter-${turn}`;
      minutes.min = "0";
      minutes.max = "480";
      minutes.step = "1";
      minutes.inputMode = "numeric";
      const label = element("label", null, "Hvor mange minutter ville det have taget dig uden kai?");
      label.htmlFor = minutes.id;
      field.append(label, minutes);
      feedback.append(field);
    }
    const submit = element("button", null, "Send vurdering");
    submit.type = "submit";
    const result = element("p", "feedback-status");
    result.setAttribute("role", "status");
    feedback.append(submit, result);

    for (const thumb of [up, down]) {
      thumb.addEventListener("click", () => {
        up.setAttribute("aria-pressed", String(thumb === up));
        down.setAttribute("aria-pressed", String(thumb === down));
      });
    }
    feedback.addEventListener("submit", async (event) => {
      event.preventDefault();
      const pressed = [up, down].find((b) => b.getAttribute("aria-pressed") === "true");
      if (!pressed) {
        result.textContent = "Vælg Ja eller Nej først.";
        return;
      }
      let manualMinutes = null;
      if (minutes && minutes.value.trim() !== "") {
        manualMinutes = Number(minutes.value);
        if (!Number.isFinite(manualMinutes) || manualMinutes < 0 || manualMinutes > 480) {
          result.textContent = "Skriv et antal minutter mellem 0 og 480.";
          minutes.focus();
          return;
        }
      }
      submit.disabled = true;
      try {
        await postJson("/api/chat/feedback", {
          answer_id: answerId,
          helpful: pressed.dataset.helpful === "true",
          manual_minutes: manualMinutes,
        });
        result.textContent = "Tak for din vurdering.";
      } catch (error) {
        result.textContent = error.message;
      } finally {
        submit.disabled = false;
      }
    });
    return feedback;
  }

  function showAnswer(slot, reply, turn) {
    slot.replaceChildren();
    slot.classList.toggle("abstained", reply.abstained);
    slot.append(element("h3", null, reply.abstained ? "Ikke dækket af vejledningen" : "Svar"));
    for (const text of reply.answer.split(/\n{2,}/)) {
      if (text.trim()) slot.append(answerParagraph(text, turn, reply.citations.length));
    }
    if (reply.citations.length) {
      slot.append(element("h3", null, "Kilder"), citationList(reply.citations, turn));
    }
    if (reply.passages.length) {
      slot.append(element("h3", null, "Uddrag fra kilderne"));
      for (const passage of reply.passages) slot.append(passageFigure(passage, turn));
    }
    slot.append(feedbackForm(reply.answer_id, turn, reply.abstained));
  }

  function newTurn(text) {
    turns += 1;
    const article = element("article", "turn");
    article.append(element("h2", "turn-heading", `Spørgsmål ${turns}`), element("p", "question", text));
    const slot = element("div", "answer");
    slot.append(element("p", "pending", "Søger i vejledningen …"));
    article.append(slot);
    log.append(article);
    emptyHint.hidden = true;
    return { slot, turn: turns };
  }

  function setBusy(busy) {
    log.setAttribute("aria-busy", String(busy));
    form.setAttribute("aria-busy", String(busy));
    sendButton.disabled = busy;
    status.textContent = busy ? "Søger i vejledningen …" : "";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sendButton.disabled) return;
    const text = question.value.trim();
    if (!text) {
      showError("Skriv et spørgsmål.");
      question.focus();
      return;
    }
    showError("");
    const { slot, turn } = newTurn(text);
    setBusy(true);
    try {
      const reply = await postJson("/api/chat/ask", {
        question: text,
        collection: collection.value || null,
        conversation_id: conversationId,
      });
      conversationId = reply.conversation_id;
      showAnswer(slot, reply, turn);
      question.value = "";
    } catch (error) {
      slot.replaceChildren(element("p", "error", error.message));
      showError(error.message);
    } finally {
      setBusy(false);
      question.focus();
    }
  });

  // Enter sends, Shift+Enter is a new line (and Enter while composing an accent stays in the text).
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  newButton.addEventListener("click", () => {
    conversationId = null;
    turns = 0;
    log.replaceChildren();
    emptyHint.hidden = false;
    showError("");
    question.value = "";
    status.textContent = "Ny samtale startet.";
    question.focus();
  });
})();
