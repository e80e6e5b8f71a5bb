// Security keys and passkeys (WebAuthn): every form with data-webauthn="create" or "get".
// On submit, fetch the options from data-options-url, ask the browser (navigator.credentials),
// put its answer as JSON in the hidden "credential" field and submit the form. No inline script:
// the Content-Security-Policy allows only files from this origin. WebAuthn needs a secure
// context (https, or http://localhost).
"use strict";
(() => {
  // What the page says, in its language (data-webauthn-* on <body>, allauth/layouts/base.html).
  const words = document.body.dataset;
  const decode = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");

  const withIds = (list) => (list || []).map((c) => ({ ...c, id: decode(c.id) }));

  const creationOptions = (publicKey) => ({
    ...publicKey,
    challenge: decode(publicKey.challenge),
    user: { ...publicKey.user, id: decode(publicKey.user.id) },
    excludeCredentials: withIds(publicKey.excludeCredentials),
  });

  const requestOptions = (publicKey) => ({
    ...publicKey,
    challenge: decode(publicKey.challenge),
    allowCredentials: withIds(publicKey.allowCredentials),
  });

  const asJson = (credential) => {
    const answer = credential.response;
    const response = { clientDataJSON: encode(answer.clientDataJSON) };
    if (answer.attestationObject) {
      response.attestationObject = encode(answer.attestationObject);
      if (answer.getTransports) {
        response.transports = answer.getTransports();
      }
    } else {
      response.authenticatorData = encode(answer.authenticatorData);
      response.signature = encode(answer.signature);
      if (answer.userHandle) {
        response.userHandle = encode(answer.userHandle);
      }
    }
    return {
      id: credential.id,
      rawId: encode(credential.rawId),
      type: credential.type,
      response,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  };

  const csrfToken = (form) => {
    const field = form.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  };

  const fetchOptions = async (form) => {
    const url = form.dataset.optionsUrl;
    const init = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (form.dataset.webauthn === "create") {
      const passkey = form.querySelector("[name=passkey]");
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrfToken(form);
      init.body = JSON.stringify({ passkey: Boolean(passkey && passkey.checked) });
    }
    const reply = await fetch(url, init);
    const body = await reply.json();
    if (!reply.ok) {
      const error = (body.errors && body.errors[0]) || {};
      throw new Error(error.message || words.webauthnFailed || "Something went wrong. Reload the page and try again.");
    }
    return body.data.creation_options || body.data.request_options;
  };

  const ask = async (form) => {
    const { publicKey } = await fetchOptions(form);
    if (form.dataset.webauthn === "create") {
      return navigator.credentials.create({ publicKey: creationOptions(publicKey) });
    }
    return navigator.credentials.get({ publicKey: requestOptions(publicKey) });
  };

  const say = (form, message) => {
    const status = form.querySelector("[data-webauthn-status]");
    if (status) {
      status.textContent = message;
      status.hidden = false;
    }
  };

  for (const form of document.querySelectorAll("form[data-webauthn]")) {
    const field = form.querySelector("[name=credential]");
    if (!window.PublicKeyCredential) {
      say(form, words.webauthnUnsupported || "This browser cannot use security keys or passkeys.");
      continue;
    }
    form.addEventListener("submit", async (event) => {
      if (field.value) {
        return; // the answer is in: the form goes to the server
      }
      event.preventDefault();
      say(form, words.webauthnPrompt || "Follow your browser's prompt…");
      try {
        const credential = await ask(form);
        field.value = JSON.stringify(asJson(credential));
        form.submit();
      } catch (error) {
        const cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
        say(
          form,
          cancelled
            ? words.webauthnCancelled || "Cancelled, or the key did not answer. Try again."
            : error.message,
        );
      }
    });
  }
})();
