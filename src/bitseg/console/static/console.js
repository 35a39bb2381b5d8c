// The console's JavaScript: the editor's live count, criteria, members and save; the segment page's charts (uPlot).
// Every chart is kept in window.bitsegCharts under its element id, for tests and for anyone poking at the page.
"use strict";

const bitseg = (() => {
  const charts = (window.bitsegCharts = {});
  const DEBOUNCE_MS = 250;
  const number = (n) => Number(n).toLocaleString("en-US");

  function withParams(url, params) {
    const found = new URL(url, window.location.href);
    for (const [key, value] of Object.entries(params)) found.searchParams.set(key, value);
    return found.pathname + found.search;
  }

  async function getJSON(url, init) {
    let answer;
    try {
      answer = await fetch(url, init);
    } catch (err) {
      return { error: { code: "UNAVAILABLE", message: "the console cannot be reached: " + err } };
    }
    try {
      return await answer.json();
    } catch (err) {
      return { error: { code: String(answer.status), message: "the console answered " + answer.status } };
    }
  }

  function make(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

  // ── the editor ─────────────────────────────────────────────────────────────────────────────────────

  function editor(root) {
    const $ = (id) => document.getElementById(id);
    const query = $("query"), count = $("count"), error = $("error"), warnings = $("warnings");
    const criteria = $("criteria"), members = $("members"), download = $("download");
    const urls = root.dataset;
    // A request sequence number per typed text: an answer older than the one shown never replaces it.
    let sent = 0, timer = null;
    const shown = { count: 0, criteria: 0, members: 0 };
    const fresh = (what, seq) => (seq < shown[what] ? false : ((shown[what] = seq), true));

    function showError(err, text) {
      error.replaceChildren();
      error.hidden = !err;
      for (const key of ["code", "offset", "line", "column"]) delete error.dataset[key];
      if (!err) return;
      error.dataset.code = err.code || "";
      error.append(make("p", err.message, { class: "message" }));
      if (err.line && err.column) {
        Object.assign(error.dataset, { offset: err.offset, line: err.line, column: err.column });
        const line = text.split("\n")[err.line - 1] || "";
        const caret = make("pre", null, { class: "caret" });
        caret.append(make("span", line, { class: "line" }), "\n",
                     make("span", " ".repeat(err.column - 1) + "^", { class: "mark" }));
        error.append(make("p", `line ${err.line}, column ${err.column}`, { class: "where" }), caret);
      }
    }

    function showCount(answer, text, seq) {
      count.dataset.query = text;
      count.dataset.seq = seq;
      count.classList.remove("pending");
      warnings.replaceChildren();
      if (answer.error) {
        count.textContent = "—";
        count.dataset.count = "";
        showError(answer.error, text);
        return;
      }
      showError(null);
      count.textContent = number(answer.count);
      count.dataset.count = answer.count;
      for (const warning of answer.warnings) warnings.append(make("li", warning));
    }

    function showCriteria(answer, text) {
      const body = criteria.tBodies[0];
      body.replaceChildren();
      criteria.dataset.query = text;
      criteria.caption.textContent = answer.error ? "" : `${answer.combinator}: ${number(answer.total)}`;
      for (const c of answer.criteria || []) {
        const row = make("tr");
        row.append(make("td", c.text, { class: "criterion" }), make("td", number(c.count), { class: "n" }),
                   make("td", number(c.running), { class: "n" }), make("td", number(c.without), { class: "n" }));
        body.append(row);
      }
    }

    function showMembers(answer, text) {
      members.replaceChildren(...(answer.members || []).map((id) => make("li", id)));
      members.dataset.query = text;
    }

    function refresh() {
      const text = query.value;
      const seq = ++sent;
      if (text.trim()) download.href = withParams(urls.csvUrl, { q: text });
      else download.removeAttribute("href");  // nothing to download yet
      if (!text.trim()) {
        shown.count = shown.criteria = shown.members = seq;
        showCount({ error: null, count: "", warnings: [] }, text, seq);
        count.textContent = "—";
        showCriteria({ criteria: [] }, text);
        showMembers({ members: [] }, text);
        return;
      }
      count.classList.add("pending");
      getJSON(withParams(urls.countUrl, { q: text })).then((a) => fresh("count", seq) && showCount(a, text, seq));
      getJSON(withParams(urls.criteriaUrl, { q: text })).then((a) => fresh("criteria", seq) && showCriteria(a, text));
      getJSON(withParams(urls.membersUrl, { q: text })).then((a) => fresh("members", seq) && showMembers(a, text));
    }

    query.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    });
    if (query.value.trim()) refresh();

    const form = $("save"), result = $("save-result");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.textContent = "saving…";
      const answer = await getJSON(urls.saveUrl, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: $("save-name").value, kind: $("save-kind").value,
                               description: $("save-description").value, query: query.value }),
      });
      result.replaceChildren();
      if (answer.error) {
        result.className = "result bad";
        result.textContent = answer.error.message;
        return;
      }
      result.className = "result ok";
      result.append("saved ", make("a", answer.segment.name, { href: answer.url }));
    });
  }

  // ── charts ─────────────────────────────────────────────────────────────────────────────────────────

  const DAY = 86400;
  const seconds = (day) => Date.parse(day + "T00:00:00Z") / 1000;
  const widthOf = (target) => Math.max(320, Math.floor(target.getBoundingClientRect().width) || 800);

  function timeChart(id, days, series, changes) {
    const target = document.getElementById(id);
    if (!target) return null;
    if (charts[id]) charts[id].destroy();
    const scales = { x: { time: true } };
    // Whole days only: ticks 1, 2, 7, 14 or 30 days apart, labelled MM-DD (the year on the first).
    const dayTicks = { incrs: [1, 2, 7, 14, 30, 91].map((d) => d * DAY), space: 50,
                       values: (u, ticks) => ticks.map((t, i) => new Date(t * 1e3).toISOString()
                         .slice(i === 0 ? 0 : 5, 10)) };
    const axes = [dayTicks, { values: (u, ticks) => ticks.map(number), size: 70 }];
    if (changes) axes.push({ scale: "changes", side: 1, grid: { show: false }, values: (u, t) => t.map(number) });
    const chart = new uPlot({
      width: widthOf(target), height: 260, scales, axes,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      series: [{ label: "day", value: (u, ts) => (ts == null ? "" : new Date(ts * 1e3).toISOString().slice(0, 10)) }, ...series.map((s) => ({
        label: s.label, stroke: s.color, width: 2, scale: s.scale || "y", value: (u, v) => (v == null ? "" : number(v)),
        // A hollow series is points only (no line): drawn over another series' points to mark them.
        ...(s.hollow ? { paths: () => null, points: { show: true, size: 9, width: 2, fill: "#fff", stroke: s.color } }
                     : { points: { show: days.length <= 62 } }),
      }))],
    }, [days.map(seconds), ...series.map((s) => s.values)], target);
    target.dataset.points = days.length;
    charts[id] = chart;
    return chart;
  }

  function barChart(id, values, label) {
    const target = document.getElementById(id);
    if (charts[id]) charts[id].destroy();
    const labels = values.map((v) => String(v[0])), xs = labels.map((_, i) => i);
    const chart = new uPlot({
      width: widthOf(target), height: 260, legend: { show: false },
      scales: { x: { time: false, range: [-0.5, Math.max(labels.length, 1) - 0.5] },
                y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{ splits: () => xs, values: (u, ticks) => ticks.map((i) => labels[i] ?? ""), rotate: -30, size: 70,
               grid: { show: false } },
             { values: (u, ticks) => ticks.map(number), size: 70 }],
      series: [{}, { label: label || "members", fill: "#4f7cacaa", stroke: "#4f7cac", points: { show: false },
                     paths: uPlot.paths.bars({ size: [0.6, 80] }) }],
    }, [xs, values.map((v) => v[1])], target);
    target.dataset.points = values.length;
    target.dataset.labels = JSON.stringify(labels);
    charts[id] = chart;
    return chart;
  }

  // A purchase dimension's breakdown: the bars are its buyers, the table each value's buyers and revenue.
  function showBreakdown(answer) {
    barChart("breakdown-chart", answer.values, answer.dimension ? "buyers" : "members");
    const table = document.getElementById("breakdown-table");
    table.hidden = !answer.dimension;
    document.querySelector("label.window").hidden = !answer.dimension;
    table.tBodies[0].replaceChildren(...(answer.dimension ? answer.values : []).map(([value, buyers, revenue]) => {
      const row = make("tr");
      row.append(make("td", value), make("td", number(buyers), { class: "n" }),
                 make("td", Number(revenue).toLocaleString("en-US", { minimumFractionDigits: 2,
                                                                       maximumFractionDigits: 2 }), { class: "n" }));
      return row;
    }));
    Object.assign(table.dataset, { field: answer.field, start: answer.start || "", end: answer.end || "" });
  }

  function segment(root) {
    const data = JSON.parse(document.getElementById("chart-data").textContent);
    const history = data.history;
    if (document.getElementById("history-chart") && history.days.length) {
      timeChart("history-chart", history.days, [
        { label: "size", color: "#1f5f99", values: history.size },
        { label: "entered", color: "#2e8b57", values: history.entered, scale: "changes" },
        { label: "left", color: "#c0392b", values: history.left, scale: "changes" },
        // Backfilled days (computed from the purchase history when saved): hollow points over the size line.
        { label: "backfilled", color: "#1f5f99", hollow: true,
          values: history.size.map((size, i) => (history.backfilled[i] ? size : null)) },
      ], true);
    }
    timeChart("buyers-chart", data.buyers.days, [{ label: "buyers", color: "#7a4fa3", values: data.buyers.counts }]);
    if (data.breakdown.field) showBreakdown(data.breakdown);
    const select = document.getElementById("breakdown-field"), windowed = document.getElementById("breakdown-window");
    let asked = 0;  // the latest request: an older answer never replaces a newer one
    async function redraw() {
      const option = select.selectedOptions[0], seq = ++asked;
      const params = { segment: root.dataset.segment, field: select.value };
      if (option && option.dataset.dimension) {
        params.dimension = "1";
        if (windowed.checked) Object.assign(params, { start: root.dataset.windowStart, end: root.dataset.windowEnd });
      }
      const answer = await getJSON(withParams(root.dataset.breakdownUrl, params));
      if (!answer.error && seq === asked) showBreakdown(answer);
    }
    select.addEventListener("change", redraw);
    windowed.addEventListener("change", redraw);
  }

  return { editor, segment, charts };
})();
