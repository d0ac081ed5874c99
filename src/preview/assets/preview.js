// The preview page script: switches views, picks recipients and applies live updates. The server
// renders every page; this script only swaps the parts marked data-live and reloads the email frame,
// double-buffered so that the email never flashes and keeps its scroll position.

const body = document.body;
const live = document.getElementById('live');

function setLive(state, text) {
  if (!live) return;
  live.dataset.state = state;
  live.textContent = text;
}

/** Server-sent events; after a dropped connection the page refreshes once it is back. */
function connect(onUpdate) {
  const events = new EventSource('/events');
  let dropped = false;
  events.addEventListener('open', () => {
    setLive('on', 'Live');
    if (dropped) {
      dropped = false;
      onUpdate(null);
    }
  });
  events.addEventListener('error', () => {
    dropped = true;
    setLive('off', 'Reconnecting…');
  });
  events.addEventListener('update', (event) => onUpdate(JSON.parse(event.data)));
}

async function fetchPage(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) return null;
  return new DOMParser().parseFromString(await response.text(), 'text/html');
}

function swapLiveParts(doc) {
  for (const fresh of doc.querySelectorAll('[data-live][id]')) {
    const current = document.getElementById(fresh.id);
    if (current) current.replaceWith(document.importNode(fresh, true));
  }
}

/** Runs `task` now, or once more after the running one when called again meanwhile. */
function coalesced(task) {
  let running = null;
  let again = false;
  return async function run(...args) {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await task(...args);
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

function indexPage() {
  const refresh = coalesced(async () => {
    const doc = await fetchPage(location.href);
    if (doc) swapLiveParts(doc);
  });
  connect(refresh);
}

function issuePage() {
  const slug = body.dataset.slug;
  const stage = document.getElementById('stage');
  const box = document.getElementById('frame-box');
  const source = document.getElementById('source');
  const picker = document.getElementById('recipient');
  const buttons = [...document.querySelectorAll('.views button[data-view]')];
  const FRAME_VIEWS = new Set(['desktop', 'phone', 'dark']);
  const SOURCE_FILES = { text: 'text.txt', html: 'html.txt', mjml: 'mjml.txt', headers: 'headers.txt' };
  let view = stage.dataset.view;
  let recipient = Number(body.dataset.recipient || 0);
  let emailVersion = body.dataset.emailVersion;
  let frameSeq = 0;

  const pageUrl = () => {
    const url = new URL(location.href);
    url.searchParams.set('view', view);
    url.searchParams.set('r', String(recipient));
    return url;
  };

  function frameUrl() {
    const params = new URLSearchParams({ r: String(recipient), v: String(emailVersion) });
    if (view === 'dark' || view === 'phone') params.set('view', view);
    return new URL(`email.html?${params}`, location.href).href;
  }

  /** Loads the email into a hidden frame, restores the scroll position, then shows it. */
  function loadFrame(keepScroll) {
    const seq = ++frameSeq;
    const old = box.querySelector('iframe.email-frame:not(.incoming)');
    let x = 0;
    let y = 0;
    if (keepScroll && old?.contentWindow) {
      x = old.contentWindow.scrollX;
      y = old.contentWindow.scrollY;
    }
    const next = document.createElement('iframe');
    next.className = 'email-frame incoming';
    next.title = 'The email';
    next.setAttribute('sandbox', 'allow-same-origin allow-popups allow-popups-to-escape-sandbox');
    const url = frameUrl();
    next.src = url;
    box.append(next);
    return new Promise((resolve) => {
      let done = false;
      // Called from the rAF poll and again by the frame's `load`, which may come much later (after
      // remote images): only the first call may act, or a late one would remove a shown frame.
      const show = () => {
        if (done) return true;
        if (seq !== frameSeq) {
          done = true;
          next.remove();
          resolve(false);
          return true;
        }
        const doc = next.contentDocument;
        // Show it as soon as it is parsed: waiting for `load` would wait for remote images.
        if (!doc || doc.URL !== url || doc.readyState === 'loading' || !doc.body) return false;
        done = true;
        next.contentWindow.scrollTo(x, y);
        next.classList.remove('incoming');
        for (const frame of box.querySelectorAll('iframe.email-frame')) if (frame !== next) frame.remove();
        box.dataset.version = String(emailVersion);
        resolve(true);
        return true;
      };
      const poll = () => {
        if (!show()) requestAnimationFrame(poll);
      };
      next.addEventListener('load', () => show(), { once: true });
      requestAnimationFrame(poll);
    });
  }

  /**
   * A live update of the email on screen: the new document replaces the old one's root element in
   * the same frame, with no navigation, and the scroll position is restored before the next paint.
   * Falls back to a full (double-buffered) load when the frame is not showing a finished email.
   */
  async function patchFrame() {
    const frame = box.querySelector('iframe.email-frame:not(.incoming)');
    const doc = frame?.contentDocument;
    if (!doc || !doc.URL.includes('/email.html') || doc.readyState === 'loading' || box.querySelector('iframe.incoming')) return loadFrame(true);
    const seq = ++frameSeq;
    const response = await fetch(frameUrl(), { cache: 'no-store' });
    const html = response.ok ? await response.text() : null;
    if (seq !== frameSeq) return false;
    if (html === null || frame.contentDocument !== doc) return loadFrame(true);
    // Parsed by the frame's own DOMParser, so that the email's policy (inline styles allowed) and
    // not this page's applies; scripts of parsed documents never run (nor would the sandbox let them).
    const win = frame.contentWindow;
    const fresh = new win.DOMParser().parseFromString(html, 'text/html');
    const x = win.scrollX;
    const y = win.scrollY;
    doc.replaceChild(doc.importNode(fresh.documentElement, true), doc.documentElement);
    win.scrollTo(x, y);
    box.dataset.version = String(emailVersion);
    return true;
  }

  async function loadSource(keepScroll) {
    const file = SOURCE_FILES[view];
    const response = await fetch(`${file}?r=${recipient}`, { cache: 'no-store' });
    const text = await response.text();
    const top = source.scrollTop;
    source.textContent = text;
    source.dataset.kind = view;
    source.scrollTop = keepScroll ? top : 0;
  }

  function show(keepScroll) {
    const framed = FRAME_VIEWS.has(view);
    box.hidden = !framed;
    source.hidden = framed;
    return framed ? loadFrame(keepScroll) : loadSource(keepScroll);
  }

  /** The same view and recipient with a newer render. */
  function showNewRender() {
    return FRAME_VIEWS.has(view) ? patchFrame() : loadSource(true);
  }

  function setView(next) {
    if (!next || next === view) return;
    view = next;
    stage.dataset.view = view;
    for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset.view === view));
    history.replaceState(null, '', pageUrl());
    show(true);
  }

  const refresh = coalesced(async (update) => {
    if (update && !update.project && !update.slugs.includes(slug)) return;
    // The event names the new email version: start loading it while the page parts are fetched.
    const announced = update?.emailVersions?.[slug];
    const loading = announced !== undefined && String(announced) !== emailVersion ? ((emailVersion = String(announced)), showNewRender()) : null;
    const doc = await fetchPage(pageUrl());
    if (!doc) {
      setLive('off', 'This issue no longer exists');
      return;
    }
    swapLiveParts(doc);
    document.title = doc.title;
    const nextVersion = doc.body.dataset.emailVersion;
    if (nextVersion !== emailVersion) {
      emailVersion = nextVersion;
      await showNewRender();
    }
    await loading;
  });

  for (const button of buttons) button.addEventListener('click', () => setView(button.dataset.view));
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLSelectElement || event.metaKey || event.ctrlKey || event.altKey) return;
    const index = Number(event.key) - 1;
    if (Number.isInteger(index) && buttons[index]) setView(buttons[index].dataset.view);
  });
  picker?.addEventListener('change', async () => {
    recipient = Number(picker.value);
    history.replaceState(null, '', pageUrl());
    const doc = await fetchPage(pageUrl());
    if (doc) swapLiveParts(doc);
    await show(true);
  });

  show(false);
  connect(refresh);
}

if (body.dataset.page === 'index') indexPage();
else if (body.dataset.page === 'issue') issuePage();
