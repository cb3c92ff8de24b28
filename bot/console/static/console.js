// The console's live parts: the queue and a conversation follow the server's events,
// waiting times and SLA countdowns tick, and a new escalation rings and notifies.
const Console = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const zh = document.body.dataset.lang === 'zh';

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const pad = (n) => String(n).padStart(2, '0');
    return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  }

  function tickTimers() {
    for (const el of document.querySelectorAll('.timer')) {
      const frozen = el.dataset.frozen;
      el.textContent = duration(frozen ? Number(frozen) : (Date.now() - Date.parse(el.dataset.since)) / 1000);
    }
  }

  function countdowns() {
    const tick = () => {
      for (const el of document.querySelectorAll('.countdown')) {
        const left = (Date.parse(el.dataset.due) - Date.now()) / 1000;
        el.textContent = left < 0 ? `-${duration(-left)} ${zh ? '已超时' : 'overdue'}` : `${duration(left)} ${zh ? '剩余' : 'left'}`;
        el.closest('tr').classList.toggle('overdue', left < 0);
      }
    };
    tick();
    setInterval(tick, 1000);
  }

  function ring(text) {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.2);
    } catch (e) { /* no sound without a user gesture; the notification still shows */ }
    if ('Notification' in window && Notification.permission === 'granted') {
      new Notification(text);
    }
  }

  function stream(query, handlers) {
    const source = new EventSource('/events' + query);
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (e) => handler(JSON.parse(e.data)));
    }
    source.addEventListener('queue', (e) => {
      const size = document.getElementById('queue-size');
      if (size) size.textContent = JSON.parse(e.data).size || '';
    });
    return source;
  }

  async function refreshQueue() {
    const rows = document.getElementById('queue-rows');
    const response = await fetch('/queue/rows', { credentials: 'same-origin' });
    if (response.ok) {
      rows.innerHTML = await response.text();
      tickTimers();
    }
  }

  function watchQueue() {
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission();
    tickTimers();
    setInterval(tickTimers, 1000);
    stream('', {
      queue: refreshQueue,
      escalation: () => ring(zh ? '有新客户排队' : 'New customer waiting'),
    });
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) {
      const detail = await response.json().catch(() => ({}));
      alert(detail.detail || response.statusText);
    }
    return response;
  }

  function watchConversation() {
    const box = document.querySelector('.conversation');
    const id = box.dataset.handoff;
    const transcript = document.getElementById('transcript');
    const reply = document.getElementById('reply');
    const label = { customer: zh ? '客户' : 'Customer', agent: zh ? '客服' : 'Agent', system: '·' };

    const system = JSON.parse(box.dataset.system);
    // Messages arrive from the event stream and from our own sends: keep them in id order, once.
    const add = (m) => {
      if (transcript.querySelector(`li[data-id="${m.id}"]`)) return;
      const li = document.createElement('li');
      li.className = m.author;
      li.dataset.id = m.id;
      if (m.author === 'system') {
        li.textContent = system[m.text] || m.text;
      } else {
        const who = document.createElement('span');
        who.className = 'who';
        who.textContent = label[m.author] || m.author;
        li.append(who, document.createTextNode(m.text));
      }
      const later = [...transcript.querySelectorAll('li[data-id]')].find((el) => Number(el.dataset.id) > m.id);
      transcript.insertBefore(li, later || null);
      li.scrollIntoView({ block: 'end' });
    };

    stream(`?handoff=${id}&after=${box.dataset.after}`, {
      messages: (list) => list.forEach(add),
      status: ({ status }) => {
        box.dataset.status = status;
        document.getElementById('handoff-status').textContent = system[status] || status;
        document.getElementById('accept').hidden = status !== 'waiting';
        const open = status === 'waiting' || status === 'active';
        document.getElementById('close').hidden = !open;
        document.getElementById('convert').hidden = !open;
        if (!open) reply.hidden = true;
      },
    });

    document.getElementById('accept').onclick = async () => {
      if ((await post(`/api/handoffs/${id}/accept`)).ok) reply.hidden = false;
    };
    document.getElementById('close').onclick = () => post(`/api/handoffs/${id}/close`);
    document.getElementById('convert').onclick = () => post(`/api/handoffs/${id}/ticket`);
    for (const chip of document.querySelectorAll('.chip')) {
      chip.onclick = () => { reply.text.value = chip.dataset.text; reply.text.focus(); };
    }
    reply.onsubmit = async (e) => {
      e.preventDefault();
      const text = reply.text.value.trim();
      if (!text) return;
      const response = await post(`/api/handoffs/${id}/messages`, { text });
      if (response.ok) {
        add(await response.json());
        reply.text.value = '';
      }
    };
    transcript.lastElementChild && transcript.lastElementChild.scrollIntoView({ block: 'end' });
  }

  return { watchQueue, watchConversation, countdowns };
})();
