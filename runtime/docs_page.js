// The /docs page: a form built from /openapi.json that runs this server's model.
// Self-contained: no library, no request to any other host.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
    }
    node.append(...children);
    return node;
  };
  const state = { doc: null, mode: "predictions", fields: [], run: null, timer: null };

  const schemaRef = (ref) => state.doc.components.schemas[ref.split("/").pop()];
  function resolved(prop) {
    let out = { ...prop };
    for (const part of prop.allOf || []) out = { ...(part.$ref ? schemaRef(part.$ref) : part), ...out };
    if (prop.$ref) out = { ...schemaRef(prop.$ref), ...out };
    delete out.allOf;
    return out;
  }
  function kindOf(p) {
    if (p.enum) return "choice";
    if (p["x-cog-secret"] || p.format === "password") return "secret";
    if (p.format === "uri") return "file";
    if (p.type === "array") return resolved(p.items || {}).format === "uri" ? "files" : "array";
    if (["integer", "number", "boolean", "string"].includes(p.type)) return p.type;
    return "json";
  }
  function typeLabel(p) {
    const kind = kindOf(p);
    if (kind === "array") return `list of ${resolved(p.items || {}).type || "values"}`;
    if (kind === "files") return "list of files";
    if (kind === "choice") return `one of ${p.enum.length}`;
    return kind;
  }
  function constraints(p) {
    const parts = [];
    if (p.minimum !== undefined) parts.push(`≥ ${p.minimum}`);
    if (p.maximum !== undefined) parts.push(`≤ ${p.maximum}`);
    if (p.minLength !== undefined) parts.push(`at least ${p.minLength} characters`);
    if (p.maxLength !== undefined) parts.push(`at most ${p.maxLength} characters`);
    if (p.pattern) parts.push(`matches ${p.pattern}`);
    if (p.default !== undefined && kindOf(p) !== "secret") parts.push(`default ${JSON.stringify(p.default)}`);
    if (p.deprecated) parts.push("deprecated");
    return parts.join(" · ");
  }

  // Each field: {name, node, value: async () => value | undefined (leave it out)}.
  function fileField(name, multiple, accept) {
    const picker = el("input", { type: "file", id: `in-${name}`, name, hidden: true, multiple, accept });
    const label = el("div", { class: "picked", text: "Drop a file here or click to choose" });
    const zone = el("div", { class: "drop", tabindex: "0", "data-input": name }, label, picker);
    let files = [];
    const show = () => {
      label.textContent = files.length ? files.map((f) => `${f.name} (${f.size} bytes)`).join(", ") : "Drop a file here or click to choose";
      zone.querySelector("img")?.remove();
      if (files.length === 1 && files[0].type.startsWith("image/")) zone.append(el("img", { src: URL.createObjectURL(files[0]), alt: files[0].name }));
    };
    zone.addEventListener("click", () => picker.click());
    zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") picker.click(); });
    picker.addEventListener("change", () => { files = [...picker.files]; show(); });
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault(); zone.classList.remove("over");
      files = [...e.dataTransfer.files].slice(0, multiple ? undefined : 1); show();
    });
    const read = (file) => new Promise((ok, fail) => {
      const reader = new FileReader();
      reader.onload = () => ok(reader.result);
      reader.onerror = () => fail(new Error(`could not read ${file.name}`));
      reader.readAsDataURL(file);
    });
    const value = async () => {
      if (!files.length) return undefined;
      const urls = await Promise.all(files.map(read));
      return multiple ? urls : urls[0];
    };
    return { zone, value, reset: () => { files = []; picker.value = ""; show(); } };
  }

  function field(name, prop, required) {
    const p = resolved(prop);
    const kind = kindOf(p);
    const id = `in-${name}`;
    let control, value, reset = () => {};
    const text = (v) => (v === undefined || v === null ? "" : String(v));
    if (kind === "choice") {
      control = el("select", { id, name });
      if (!required && p.default === undefined) control.append(el("option", { value: "", text: "—" }));
      for (const choice of p.enum) control.append(el("option", { value: JSON.stringify(choice), text: String(choice), selected: choice === p.default }));
      value = async () => (control.value === "" ? undefined : JSON.parse(control.value));
    } else if (kind === "boolean") {
      control = el("input", { type: "checkbox", id, name, checked: p.default === true });
      value = async () => control.checked;
    } else if (kind === "integer" || kind === "number") {
      control = el("input", { type: "number", id, name, min: p.minimum, max: p.maximum, step: kind === "integer" ? "1" : "any", value: text(p.default) });
      value = async () => {
        if (control.value === "") return undefined;
        const n = Number(control.value);
        if (!Number.isFinite(n) || (kind === "integer" && !Number.isInteger(n))) throw new Error(`${name}: not ${kind === "integer" ? "an integer" : "a number"}`);
        if (p.minimum !== undefined && n < p.minimum) throw new Error(`${name}: must be ≥ ${p.minimum}`);
        if (p.maximum !== undefined && n > p.maximum) throw new Error(`${name}: must be ≤ ${p.maximum}`);
        return n;
      };
    } else if (kind === "secret") {
      control = el("input", { type: "password", id, name, autocomplete: "off", placeholder: p.default === undefined ? "" : "(has a default)" });
      value = async () => (control.value === "" ? undefined : control.value);
    } else if (kind === "file" || kind === "files") {
      const picked = fileField(name, kind === "files", p["x-cog-accept"]);
      control = picked.zone; value = picked.value; reset = picked.reset;
    } else if (kind === "array") {
      const itemType = resolved(p.items || {}).type;
      control = el("textarea", { id, name, placeholder: "one item per line" });
      control.defaultValue = Array.isArray(p.default) ? p.default.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("\n") : "";
      value = async () => {
        const lines = control.value.split("\n").filter((line) => line.trim() !== "");
        if (!lines.length) return undefined;
        return lines.map((line) => (itemType === "string" ? line : JSON.parse(line)));
      };
    } else if (kind === "string") {
      control = el("textarea", { id, name, rows: "2", maxlength: p.maxLength });
      control.defaultValue = text(p.default);
      value = async () => {
        if (control.value === "" && !required) return undefined;
        if (p.minLength !== undefined && control.value.length < p.minLength) throw new Error(`${name}: at least ${p.minLength} characters`);
        if (p.pattern && !new RegExp(p.pattern).test(control.value)) throw new Error(`${name}: must match ${p.pattern}`);
        return control.value;
      };
    } else {
      control = el("textarea", { id, name, placeholder: "JSON" });
      control.defaultValue = p.default === undefined ? "" : JSON.stringify(p.default, null, 2);
      value = async () => (control.value.trim() === "" ? undefined : JSON.parse(control.value));
    }
    const label = el("label", { class: "name", for: id }, name, el("span", { class: "type", text: typeLabel(p) }));
    if (required) label.append(el("span", { class: "required", text: " *", title: "required" }));
    const node = el("div", { class: "field", "data-kind": kind }, label);
    if (p.description) node.append(el("div", { class: "desc", text: p.description }));
    node.append(control);
    const hint = constraints(p);
    if (hint) node.append(el("div", { class: "hint", text: hint }));
    return { name, node, required, value, reset };
  }

  function buildForm() {
    const input = state.doc.components.schemas[state.mode === "trainings" ? "TrainingInput" : "Input"] || { properties: {} };
    const required = new Set(input.required || []);
    const entries = Object.entries(input.properties || {}).sort((a, b) => (a[1]["x-order"] ?? 0) - (b[1]["x-order"] ?? 0));
    state.fields = entries.map(([name, prop]) => field(name, prop, required.has(name)));
    $("fields").replaceChildren(...state.fields.map((f) => f.node));
    if (!entries.length) $("fields").append(el("p", { class: "muted", text: "This model takes no input." }));
  }

  // Output: files by their media type, JSON pretty-printed, text as text.
  const isFile = (v) => typeof v === "string" && (/^data:[^,]*,/.test(v) || /^https?:\/\//.test(v));
  function mediaType(url) {
    const data = /^data:([^;,]*)/.exec(url);
    if (data) return data[1];
    const ext = (url.split("?")[0].split(".").pop() || "").toLowerCase();
    const known = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", svg: "image/svg+xml",
      mp3: "audio/mpeg", wav: "audio/wav", ogg: "audio/ogg", flac: "audio/flac", mp4: "video/mp4", webm: "video/webm", mov: "video/quicktime" };
    return known[ext] || "application/octet-stream";
  }
  function renderFile(url, index) {
    const type = mediaType(url);
    const name = url.startsWith("data:") ? `output${index === undefined ? "" : "-" + index}.${(type.split("/")[1] || "bin").split("+")[0]}` : decodeURIComponent(url.split("?")[0].split("/").pop());
    const box = el("div", { class: "file" });
    if (type.startsWith("image/")) box.append(el("img", { src: url, alt: name }));
    else if (type.startsWith("audio/")) box.append(el("audio", { src: url, controls: true }));
    else if (type.startsWith("video/")) box.append(el("video", { src: url, controls: true }));
    box.append(el("a", { href: url, download: name, text: `Download ${name}` }));
    return box;
  }
  function renderValue(value, output) {
    if (value === undefined || value === null) return el("p", { class: "muted", text: "no output" });
    if (isFile(value)) return renderFile(value);
    if (typeof value === "string") return el("div", { class: "text", text: value });
    if (Array.isArray(value)) {
      if (value.length && value.every(isFile)) return el("div", {}, ...value.map(renderFile));
      if (output && output["x-cog-array-display"] === "concatenate" && value.every((v) => typeof v === "string"))
        return el("div", { class: "text", text: value.join("") });
    }
    const files = [];
    JSON.stringify(value, (key, v) => { if (isFile(v)) files.push(v); return v; });
    return el("div", {}, el("pre", { class: "json", text: JSON.stringify(value, null, 2) }), ...files.map(renderFile));
  }
  const outputSchema = () => {
    const s = state.doc.components.schemas[state.mode === "trainings" ? "TrainingOutput" : "Output"];
    return s ? resolved(s) : {};
  };
  function show(prediction) {
    $("status").textContent = prediction.status || "";
    $("status").className = `status ${prediction.status || ""}`;
    const out = [renderValue(prediction.output, outputSchema())];
    if (prediction.error) out.push(el("div", { class: "error", text: String(prediction.error) }));
    $("output").replaceChildren(...out);
    if (typeof prediction.logs === "string") $("logs").textContent = prediction.logs;
    $("response").textContent = JSON.stringify(prediction, (k, v) => (isFile(v) && v.length > 200 ? v.slice(0, 120) + "…" : v), 2);
  }

  // Running: PUT with our own id (so Cancel can name it); SSE when the model streams.
  const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
  const streams = () => state.mode === "predictions" && Boolean(state.doc.paths["/predictions"]?.post?.["x-cog-streaming"]);

  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message"; const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  }

  function startClock() {
    const started = performance.now();
    const tick = () => { $("elapsed").textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`; };
    tick();
    state.timer = setInterval(tick, 100);
    return started;
  }
  function stopClock(started, prediction) {
    clearInterval(state.timer);
    const wall = ((performance.now() - started) / 1000).toFixed(2);
    const model = prediction?.metrics?.predict_time;
    $("elapsed").textContent = model === undefined ? `took ${wall} s` : `took ${wall} s (model ${Number(model).toFixed(2)} s)`;
  }

  async function run(event) {
    event.preventDefault();
    const input = {};
    try {
      for (const f of state.fields) {
        const v = await f.value();
        if (v === undefined && f.required) throw new Error(`${f.name} is required`);
        if (v !== undefined) input[f.name] = v;
      }
    } catch (err) {
      $("output").replaceChildren(el("div", { class: "error", text: err.message }));
      return;
    }
    const id = randomId();
    const path = `/${state.mode}/${id}`;
    state.run = { path };
    $("run").disabled = true; $("cancel").disabled = false;
    $("status").textContent = "starting"; $("status").className = "status";
    $("logs").textContent = ""; $("response").textContent = "";
    $("output").replaceChildren(el("p", { class: "muted", text: "Running…" }));
    const started = startClock();
    let final = null;
    try {
      const stream = streams();
      const response = await fetch(path, {
        method: "PUT",
        headers: { "Content-Type": "application/json", Accept: stream ? "text/event-stream" : "application/json" },
        body: JSON.stringify({ id, input }),
      });
      if (stream && response.ok && (response.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
        const chunks = [];
        let logs = "";
        await readEvents(response, (name, data) => {
          if (name === "start") { $("status").textContent = "processing"; }
          else if (name === "output") { chunks.push(data.chunk); show({ status: "processing", output: chunks }); $("logs").textContent = logs; }
          else if (name === "log") { logs += data.data; $("logs").textContent = logs; }
          else if (name === "completed") { final = data; }
          else if (name === "error") { final = { status: "failed", error: data.detail || JSON.stringify(data) }; }
        });
      } else {
        $("status").textContent = "processing";
        const body = await response.json();
        final = response.ok ? body : { status: "failed", error: body.detail ? JSON.stringify(body.detail) : (body.error || `HTTP ${response.status}`) };
      }
    } catch (err) {
      final = { status: "failed", error: String(err.message || err) };
    }
    stopClock(started, final);
    show(final || { status: "failed", error: "the server closed the connection" });
    state.run = null;
    $("run").disabled = false; $("cancel").disabled = true;
  }

  async function cancel() {
    const current = state.run;
    if (!current) return;
    $("cancel").disabled = true;
    // 404 until the server has taken the prediction in: ask again while it still runs.
    for (let attempt = 0; attempt < 100 && state.run === current; attempt++) {
      const response = await fetch(`${current.path}/cancel`, { method: "POST" });
      if (response.status !== 404) return;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  async function load() {
    let response;
    for (;;) {
      response = await fetch("/openapi.json");
      if (response.status !== 503) break;
      $("loading").textContent = (await response.json()).detail || "The model is loading…";
      await new Promise((ok) => setTimeout(ok, 1000));
    }
    state.doc = await response.json();
    if (state.doc.info?.title) $("title").textContent = state.doc.info.title;
    if (state.doc.paths["/trainings"]) {
      $("modes").hidden = false;
      for (const button of document.querySelectorAll("#modes .mode")) {
        button.addEventListener("click", () => {
          if (state.run) return;
          state.mode = button.dataset.mode;
          for (const b of document.querySelectorAll("#modes .mode")) b.classList.toggle("active", b === button);
          buildForm();
        });
      }
    }
    if (!state.doc.paths["/predictions"]) state.mode = "trainings";
    buildForm();
    document.body.dataset.ready = "true";
  }

  $("form").addEventListener("submit", run);
  $("form").addEventListener("reset", () => setTimeout(() => state.fields.forEach((f) => f.reset()), 0));
  $("cancel").addEventListener("click", cancel);
  load();
})();
