// The Web phone: the signed-in employee's extension registered from the browser with JsSIP.
// It never sees a stored SIP password: it asks agentdesk for time-limited credentials (the
// switchboard checks their HMAC and expiry) and asks again before they expire. Every string
// it shows comes from the page (#phone-texts), already in the user's language.
(function () {
  "use strict";
  const root = document.getElementById("phone");
  if (!root || !window.JsSIP) { return; }
  const texts = JSON.parse(document.getElementById("phone-texts").textContent);
  const byId = (id) => document.getElementById(id);
  const statusBox = byId("phone-status");
  const incomingBox = byId("incoming");
  const callPanel = byId("call-panel");
  const callState = byId("call-state");
  const callMessage = byId("call-message");
  const numberInput = byId("number");
  const remoteAudio = byId("remote-audio");
  const muteButton = byId("mute");
  const holdButton = byId("hold");
  const dtmfSent = byId("dtmf-sent");
  const notifyButton = byId("enable-notifications");

  const STATUS_STYLES = { registering: "alert-secondary", registered: "alert-success",
    failed: "alert-danger", disconnected: "alert-warning", stopped: "alert-danger" };
  // Ask for new credentials this long before they expire (or at half their life if shorter).
  const RENEW_AHEAD_MS = 120 * 1000;
  // How often the page makes sure the employee still holds the agent while idle: a revoke
  // removes the registration on the switchboard, which tells the browser nothing.
  const RECHECK_MS = 60 * 1000;
  const MEDIA = { audio: true, video: false };

  let ua = null;
  let credentials = null;
  let session = null;
  let renewTimer = null;
  let recheckTimer = null;
  let stopped = false;
  let ringtone = null;

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  function setStatus(state, text) {
    statusBox.dataset.state = state;
    statusBox.textContent = text;
    statusBox.className = "alert py-2 " + (STATUS_STYLES[state] || "alert-secondary");
  }

  function showMessage(text, style) {
    callMessage.textContent = text;
    callMessage.hidden = !text;
    callMessage.className = "alert " + (style || "alert-danger");
    callMessage.setAttribute("role", style === "alert-danger" ? "alert" : "status");
  }

  // --- credentials -----------------------------------------------------------------------------

  async function fetchCredentials() {
    const response = await fetch(root.dataset.credentialsUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": root.dataset.csrf, "Accept": "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    if (!response.ok) {
      const failure = new Error((body && body.message) || `${response.status} ${response.statusText}`);
      failure.status = response.status;
      throw failure;
    }
    return body;
  }

  // The employee no longer holds an active agent (revoked, or never had one): stop for good.
  function stopForGood() {
    stopped = true;
    window.clearTimeout(renewTimer);
    window.clearInterval(recheckTimer);
    if (session && !session.isEnded()) { session.terminate(); }
    if (ua) { ua.stop(); }
    setStatus("stopped", texts.no_agent);
    root.dataset.registered = "false";
  }

  function credentialsFailed(error) {
    if (error.status === 404 || error.status === 403) {
      stopForGood();
      return;
    }
    setStatus("failed", format(texts.credentials_failed, { reason: error.message }));
  }

  function scheduleRenewal() {
    window.clearTimeout(renewTimer);
    const left = Date.parse(credentials.expires_at) - Date.now();
    const delay = Math.max(5000, Math.min(left - RENEW_AHEAD_MS, left / 2));
    renewTimer = window.setTimeout(renew, delay);
  }

  async function renew() {
    if (stopped) { return; }
    try {
      credentials = await fetchCredentials();
    } catch (error) {
      credentialsFailed(error);
      if (!stopped) { renewTimer = window.setTimeout(renew, 15000); }
      return;
    }
    // JsSIP keeps the digest's HA1 after the first success: the new password replaces it.
    ua.set("authorization_user", credentials.authorization_user);
    ua.set("password", credentials.password);
    ua.register();
    scheduleRenewal();
  }

  // Whether the employee still holds the agent (the page stops when not), with fresh
  // credentials; after a failure at most once in RECHECK_GAP_MS, so a refusal cannot start a
  // loop (`always` after a call the other side or the switchboard ended). One asked for
  // within the gap is made when the gap is over, not dropped.
  const RECHECK_GAP_MS = 20 * 1000;
  let lastRecheck = 0;
  let pendingRecheck = null;
  async function recheck(always) {
    if (stopped) { return; }
    const wait = lastRecheck + RECHECK_GAP_MS - Date.now();
    if (!always && wait > 0) {
      if (!pendingRecheck) {
        pendingRecheck = window.setTimeout(() => { pendingRecheck = null; recheck(); }, wait);
      }
      return;
    }
    lastRecheck = Date.now();
    try {
      await renew();
    } catch (error) { /* renew() reports it */ }
  }

  // --- the user agent --------------------------------------------------------------------------

  async function start() {
    setStatus("registering", texts.registering);
    try {
      credentials = await fetchCredentials();
    } catch (error) {
      credentialsFailed(error);
      return;
    }
    const socket = new JsSIP.WebSocketInterface(credentials.ws_url);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: credentials.sip_uri,
      authorization_user: credentials.authorization_user,
      password: credentials.password,
      display_name: credentials.display_name,
      user_agent: `agentdesk Web phone (JsSIP ${JsSIP.version})`,
      register: true,
      session_timers: false,
    });
    ua.on("connecting", () => { if (!stopped) { setStatus("registering", texts.registering); } });
    ua.on("disconnected", () => {
      if (stopped) { return; }
      root.dataset.registered = "false";
      setStatus("disconnected", texts.disconnected);
      recheck();
    });
    ua.on("registered", () => {
      root.dataset.registered = "true";
      setStatus("registered", texts.registered);
    });
    ua.on("unregistered", () => {
      root.dataset.registered = "false";
      if (!stopped) { setStatus("registering", texts.registering); }
    });
    ua.on("registrationFailed", (event) => {
      root.dataset.registered = "false";
      if (stopped) { return; }
      setStatus("failed", format(texts.failed, { reason: describeFailure(event) }));
      // Refused credentials may have expired while the tab slept, or the agent was revoked.
      if (event.cause === JsSIP.C.causes.AUTHENTICATION_ERROR || event.cause === JsSIP.C.causes.REJECTED) {
        recheck();
      }
    });
    ua.on("newRTCSession", (event) => onNewSession(event.session, event.originator));
    ua.start();
    scheduleRenewal();
    recheckTimer = window.setInterval(() => { if (!session) { recheck(); } }, RECHECK_MS);
  }

  function describeFailure(event) {
    const response = event.response || event.message;
    const phrase = response && response.reason_phrase;
    if (phrase && texts.refusals[phrase]) { return texts.refusals[phrase]; }
    const cause = texts.causes[event.cause] || event.cause || "";
    if (response && response.status_code) {
      return `${cause} (${response.status_code} ${phrase || ""})`.replace(" )", ")");
    }
    return cause;
  }

  // --- calls -----------------------------------------------------------------------------------

  function partyOf(rtcSession) {
    const identity = rtcSession.remote_identity;
    if (!identity) { return texts.unknown_caller; }
    const user = identity.uri && identity.uri.user;
    const name = identity.display_name;
    if (name && user && name !== user) { return `${name} (${user})`; }
    return name || user || texts.unknown_caller;
  }

  function onNewSession(rtcSession, originator) {
    if (session && !session.isEnded()) {
      // One call at a time: a second caller hears busy (the other devices may still ring).
      if (originator === "remote") { rtcSession.terminate({ status_code: 486, reason_phrase: "Busy Here" }); }
      return;
    }
    session = rtcSession;
    showMessage("");
    dtmfSent.textContent = "";
    setPressed(muteButton, false);
    setPressed(holdButton, false);
    const party = partyOf(rtcSession);
    root.dataset.call = originator === "remote" ? "incoming" : "outgoing";
    rtcSession.on("peerconnection", (event) => attachAudio(event.peerconnection));
    if (rtcSession.connection) { attachAudio(rtcSession.connection); }
    rtcSession.on("progress", () => {
      if (originator === "local") { callState.textContent = texts.ringing; }
    });
    rtcSession.on("accepted", () => {
      stopRingtone();
      incomingBox.hidden = true;
      callPanel.hidden = false;
      root.dataset.call = "talking";
      callState.textContent = format(texts.in_call, { party });
    });
    rtcSession.on("hold", () => { setPressed(holdButton, true); callState.textContent = texts.on_hold; });
    rtcSession.on("unhold", () => { setPressed(holdButton, false); callState.textContent = format(texts.in_call, { party }); });
    rtcSession.on("ended", (event) => finished(rtcSession, event, party));
    rtcSession.on("failed", (event) => finished(rtcSession, event, party));

    if (originator === "remote") {
      byId("incoming-caller").textContent = format(texts.incoming, { caller: party });
      incomingBox.hidden = false;
      callPanel.hidden = true;
      startRingtone();
      notify(party);
    } else {
      callPanel.hidden = false;
      callState.textContent = format(texts.calling, { number: party });
    }
  }

  function finished(rtcSession, event, party) {
    if (rtcSession !== session) { return; }
    stopRingtone();
    session = null;
    incomingBox.hidden = true;
    callPanel.hidden = true;
    remoteAudio.srcObject = null;
    root.dataset.call = "none";
    const causes = JsSIP.C.causes;
    const remoteEnded = event.originator === "remote";
    if (event.cause === causes.BYE) {
      showMessage(texts.ended, "alert-info");
    } else if (event.cause === causes.CANCELED && remoteEnded) {
      showMessage(format(texts.missed, { caller: party }), "alert-warning");
    } else if (!remoteEnded && (event.cause === causes.CANCELED || event.cause === causes.REJECTED)) {
      showMessage("");
    } else {
      showMessage(format(texts.call_failed, { reason: describeFailure(event) }), "alert-danger");
    }
    refreshHistory();
    // A call the switchboard cut may be a revoke: make sure the agent is still held.
    if (remoteEnded) { recheck(true); }
  }

  function attachAudio(connection) {
    connection.addEventListener("track", (event) => {
      if (event.track.kind !== "audio") { return; }
      remoteAudio.srcObject = event.streams[0] || new MediaStream([event.track]);
      const playing = remoteAudio.play();
      if (playing) { playing.catch(() => { /* autoplay refused: the next click plays */ }); }
    });
  }

  function setPressed(button, pressed) {
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
    button.classList.toggle("active", pressed);
  }

  function call(number) {
    if (!ua) { return; }
    const wanted = number.replace(/[\s.()-]/g, "");
    if (!wanted) {
      showMessage(texts.empty_number, "alert-danger");
      numberInput.focus();
      return;
    }
    const domain = credentials.sip_uri.replace(/^sips?:[^@]*@/, "");
    try {
      ua.call(`sip:${wanted}@${domain}`, {
        mediaConstraints: MEDIA, pcConfig: { iceServers: [] },
        rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false } });
    } catch (error) {
      showMessage(format(texts.call_failed, { reason: error.message }), "alert-danger");
    }
  }

  byId("dial").addEventListener("submit", (event) => {
    event.preventDefault();
    if (session) { return; }
    call(numberInput.value);
  });
  byId("answer").addEventListener("click", () => {
    if (session && session.direction === "incoming" && !session.isEstablished()) {
      stopRingtone();
      session.answer({ mediaConstraints: MEDIA, pcConfig: { iceServers: [] } });
    }
  });
  byId("reject").addEventListener("click", () => {
    if (session && !session.isEstablished()) { session.terminate({ status_code: 486, reason_phrase: "Busy Here" }); }
  });
  byId("hangup").addEventListener("click", () => { if (session) { session.terminate(); } });
  muteButton.addEventListener("click", () => {
    if (!session) { return; }
    if (session.isMuted().audio) { session.unmute({ audio: true }); } else { session.mute({ audio: true }); }
    setPressed(muteButton, session.isMuted().audio);
  });
  holdButton.addEventListener("click", () => {
    if (!session || !session.isEstablished()) { return; }
    if (session.isOnHold().local) { session.unhold(); } else { session.hold(); }
  });
  byId("keypad").addEventListener("click", (event) => {
    const key = event.target.closest("[data-key]");
    if (!key) { return; }
    const tone = key.dataset.key;
    if (session && session.isEstablished()) {
      session.sendDTMF(tone, { transportType: "RFC2833" });
      dtmfSent.textContent += tone;
    } else {
      numberInput.value += tone;
    }
  });

  // --- the call history ------------------------------------------------------------------------

  async function refreshHistory() {
    // The switchboard writes its records as the call ends: give it a moment.
    await new Promise((resolve) => window.setTimeout(resolve, 1000));
    try {
      const response = await fetch(root.dataset.historyUrl, { credentials: "same-origin" });
      if (!response.ok) { return; }
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const fresh = holder.querySelector("#call-history");
      if (fresh) { byId("call-history").replaceWith(fresh); }
    } catch (error) { /* the list stays as it was */ }
  }

  // --- ringtone and notification ---------------------------------------------------------------

  // Vietnam's ringing tone: 425 Hz, one second on, four off; made by WebAudio, no file. The
  // sound context is made once, with the page: a browser lets it play only after the user has
  // touched the page, so until then a button offers to turn the ringtone on (any click or key
  // on the page does it too), rather than ringing silently.
  const AudioContextType = window.AudioContext || window.webkitAudioContext;
  const sound = AudioContextType ? new AudioContextType() : null;
  const soundButton = byId("enable-sound");
  let shownNotification = null;

  function offerSound() {
    if (!sound) { return; }
    const unlock = () => {
      sound.resume().then(() => { soundButton.hidden = sound.state === "running"; });
    };
    soundButton.hidden = sound.state === "running";
    soundButton.addEventListener("click", unlock);
    document.addEventListener("pointerdown", unlock, { once: true, capture: true });
    document.addEventListener("keydown", unlock, { once: true, capture: true });
    sound.addEventListener("statechange", () => { soundButton.hidden = sound.state === "running"; });
  }

  function startRingtone() {
    stopRingtone();
    root.dataset.ringing = "true";
    if (!sound) { return; }
    const gain = sound.createGain();
    gain.gain.value = 0;
    gain.connect(sound.destination);
    const tone = sound.createOscillator();
    tone.frequency.value = 425;
    tone.connect(gain);
    tone.start();
    const ring = () => {
      const now = sound.currentTime;
      gain.gain.setValueAtTime(0.2, now);
      gain.gain.setValueAtTime(0, now + 1);
    };
    ring();
    ringtone = { tone, gain, timer: window.setInterval(ring, 5000) };
  }

  function stopRingtone() {
    root.dataset.ringing = "false";
    if (shownNotification) { shownNotification.close(); shownNotification = null; }
    if (!ringtone) { return; }
    window.clearInterval(ringtone.timer);
    ringtone.tone.stop();
    ringtone.gain.disconnect();
    ringtone = null;
  }

  function notify(caller) {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") { return; }
    const shown = new Notification(texts.notification_title, {
      body: format(texts.incoming, { caller }), tag: "agentdesk-call", requireInteraction: true });
    shown.addEventListener("click", () => { window.focus(); shown.close(); });
    shownNotification = shown;
    root.dataset.notified = "true";
  }

  offerSound();

  if ("Notification" in window && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", () => {
      Notification.requestPermission().then(() => { notifyButton.hidden = true; });
    });
  }

  window.addEventListener("beforeunload", () => { if (ua) { ua.stop(); } });
  start();
})();
