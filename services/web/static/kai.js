// What every page's script shares: calls to kai's JSON API with the session's CSRF token, and the Danish
// message of a refusal. Loaded by base.html before the page's own script.
"use strict";

window.kai = (function () {
  const NETWORK_ERROR = "Serveren kunne ikke nås. Tjek forbindelsen, og prøv igen.";
  const LOGGED_OUT = "Du er blevet logget ud. Genindlæs siden og log ind igen.";

  /** A refused or failed call; its message is Danish and meant for the user. */
  class ApiError extends Error {}

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

  /** The API's Danish message of a failed answer ({"detail": "..."}), or a general one. */
  function errorText(body, status) {
    if (body && typeof body.detail === "string") return body.detail;
    if (status === 401) return LOGGED_OUT;
    return `Serveren svarede med en fejl (HTTP ${status}). Prøv igen.`;
  }

  /** fetch() with the CSRF header; the JSON answer (null for 204), or an ApiError. */
  async function api(method, url, body) {
    const init = {
      method,
      headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
      credentials: "same-origin",
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(NETWORK_ERROR);
    }
    if (!response.ok) {
      // Not JSON (a proxy's error page): the general message.
      const answer = await response.json().catch(() => null);
      throw new ApiError(errorText(answer, response.status));
    }
    return response.status === 204 ? null : response.json();
  }

  return { ApiError, NETWORK_ERROR, api, csrfToken, errorText };
})();
