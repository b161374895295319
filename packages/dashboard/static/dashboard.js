// tunekit dashboard: the pages' script. Plain JavaScript, no framework and no build step. Every
// string of a study reaches the page through textContent or an attribute value, never as markup.
"use strict"
;(() => {
  const data = JSON.parse(document.getElementById("tk-data").textContent)
  const page = document.body.dataset.page
  const canWrite = document.body.dataset.write === "true"
  window.__tk = { page, errors: [] }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  /** An element; strings among the children become text nodes. */
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue
      if (k === "class") e.className = v
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v)
      else e.setAttribute(k, v === true ? "" : String(v))
    }
    for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c))
    return e
  }
  const byId = (id) => document.getElementById(id)
  /** Replaces a box's children, skipping the absent ones (replaceChildren would write "null"). */
  const put = (box, ...children) => box.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false))

  const fmt = (x) => {
    if (x === null || x === undefined) return "–"
    if (typeof x !== "number") return String(x)
    if (!Number.isFinite(x)) return String(x)
    if (Number.isInteger(x)) return String(x)
    const a = Math.abs(x)
    return a !== 0 && (a >= 1e6 || a < 1e-3) ? Number(x.toPrecision(4)).toExponential() : String(Number(x.toPrecision(5)))
  }
  const value = (v) => (typeof v === "number" ? fmt(v) : v === null ? "null" : typeof v === "string" ? v : JSON.stringify(v))
  const count = (n) => n.toLocaleString("en-US")
  const two = (n) => String(n).padStart(2, "0")
  /** A time as local YYYY-MM-DD HH:MM:SS. */
  const when = (ms) => {
    if (ms === null || ms === undefined) return "–"
    const d = new Date(ms)
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  }
  const ago = (ms) => {
    if (ms === null || ms === undefined) return "–"
    const s = Math.max(0, (Date.now() - ms) / 1000)
    if (s < 60) return `${Math.round(s)} s ago`
    if (s < 3600) return `${Math.round(s / 60)} min ago`
    if (s < 86400) return `${Math.round(s / 3600)} h ago`
    return `${Math.round(s / 86400)} d ago`
  }
  const seconds = (ms) => (ms === null || ms === undefined ? "–" : ms < 1000 ? `${Math.round(ms)} ms` : `${fmt(ms / 1000)} s`)

  const studyHref = (name) => `/study/${encodeURIComponent(name)}`
  const trialHref = (name, n) => `${studyHref(name)}/trial/${n}`
  const apiOf = (name) => `/api/study/${encodeURIComponent(name)}`

  const api = async (url, init) => {
    const r = await fetch(url, { credentials: "same-origin", ...init })
    const body = await r.json().catch(() => ({ error: r.statusText }))
    if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`)
    return body
  }
  const post = (url, body) => api(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

  /** A message in a box at the top of the page (and kept for the tests). */
  const problem = (message) => {
    window.__tk.errors.push(String(message))
    let box = byId("tk-problem")
    if (!box) {
      box = el("p", { id: "tk-problem", class: "error" })
      document.querySelector("main").prepend(box)
    }
    box.textContent = String(message)
  }

  const badge = (state) => el("span", { class: `state ${String(state).toLowerCase()}` }, state)

  // ---------------------------------------------------------------------------------------------
  // Live: a study's server-sent events
  // ---------------------------------------------------------------------------------------------

  /**
   * Follows a study from change counter `since`; `onChange(data)` gets each hello and update.
   * `want`: {latest: N} for the N trials that changed last, {trial: id} for one trial; all by default.
   */
  const follow = (name, since, onChange, want = {}) => {
    const live = byId("tk-live")
    const q = new URLSearchParams({ since: String(since) })
    for (const [k, v] of Object.entries(want)) q.set(k, String(v))
    const source = new EventSource(`${apiOf(name)}/events?${q}`)
    // Counted for the benchmark: how many events came, and their data's size.
    window.__tk.events = 0
    window.__tk.eventBytes = 0
    const handle = (ev) => {
      window.__tk.events++
      window.__tk.eventBytes += ev.data.length
      onChange(JSON.parse(ev.data))
    }
    source.addEventListener("hello", handle)
    source.addEventListener("update", handle)
    // The server's counter is behind the page's (another database): start again.
    source.addEventListener("reset", () => location.reload())
    source.addEventListener("open", () => {
      live.hidden = false
      live.classList.remove("off")
      live.title = "following the study live"
    })
    // EventSource connects again by itself, from the last event it got.
    source.addEventListener("error", () => {
      live.classList.add("off")
      live.title = "connection lost; reconnecting"
    })
    window.addEventListener("pagehide", () => source.close())
    return source
  }

  // ---------------------------------------------------------------------------------------------
  // Charts: ECharts options drawn by the server's @tunekit/plots
  // ---------------------------------------------------------------------------------------------

  const charts = new Map() // element -> instance
  let resizeTimer
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer)
    resizeTimer = setTimeout(() => charts.forEach((c) => c.resize()), 150)
  })

  // ECharts (1 MB) is loaded once the page has asked for its plots (see the end), so that the
  // server computes them while the browser reads it; drawing waits for it.
  let echartsLoaded
  const echartsReady = new Promise((resolve, reject) => {
    echartsLoaded = () => {
      const src = document.body.dataset.echarts
      if (!src || window.echarts) return resolve()
      const tag = document.createElement("script")
      tag.src = src
      tag.addEventListener("load", () => resolve())
      tag.addEventListener("error", () => reject(new Error("ECharts did not load")))
      document.head.append(tag)
    }
  })

  /** Draws a server's plot ({option, height} or {note}) into a box; resolves once it is drawn. */
  const draw = (box, drawn) => echartsReady.then(() => drawNow(box, drawn))
  const drawNow = (box, drawn) =>
    new Promise((resolve) => {
      if (drawn.note !== undefined) {
        const old = charts.get(box)
        if (old) {
          old.dispose()
          charts.delete(box)
        }
        box.replaceChildren(el("p", { class: "plot-note" }, drawn.note))
        box.style.height = "auto"
        resolve()
        return
      }
      box.style.height = `${drawn.height}px`
      let chart = charts.get(box)
      if (!chart) {
        box.replaceChildren()
        chart = echarts.init(box, null, { renderer: "canvas" })
        charts.set(box, chart)
      } else chart.resize()
      chart.off("finished")
      const started = performance.now()
      chart.on("finished", () => {
        chart.off("finished")
        // Kept for the benchmark: what each chart took to draw.
        ;(window.__tk.draws ??= []).push([drawn.option.title && drawn.option.title.text, Math.round(started), Math.round(performance.now() - started)])
        resolve()
      })
      chart.setOption(drawn.option, { notMerge: true })
    })

  // ---------------------------------------------------------------------------------------------
  // Studies list
  // ---------------------------------------------------------------------------------------------

  const studiesPage = () => {
    const body = document.querySelector("#tk-studies tbody")
    const form = byId("tk-compare")
    const button = form.querySelector("button")
    const picked = new Set()
    const sync = () => {
      button.disabled = picked.size < 2
    }
    const bestText = (s) => (s.best !== null ? `${s.best.values.map(fmt).join(", ")} (#${s.best.number})` : s.front !== null ? `front of ${count(s.front)}` : "–")
    const render = (studies) => {
      byId("tk-empty").hidden = studies.length > 0
      body.replaceChildren(
        ...studies.map((s) =>
          el(
            "tr",
            {},
            el("td", {}, el("input", {
              type: "checkbox",
              name: "study",
              value: s.name,
              form: "tk-compare",
              "aria-label": `compare ${s.name}`,
              checked: picked.has(s.name),
              onchange: (e) => {
                e.target.checked ? picked.add(s.name) : picked.delete(s.name)
                sync()
              }
            })),
            el("td", {}, el("a", { href: studyHref(s.name), class: "name" }, s.name), el("div", { class: "sub" }, s.directions.map((d, i) => `${d} ${s.objectives[i]}`).join(", "))),
            el("td", {}, badge(s.state)),
            el("td", { class: "num" }, bestText(s)),
            el("td", { class: "num" }, count(s.trials)),
            ...["Complete", "Pruned", "Failed", "Running", "Waiting"].map((k) => el("td", { class: "num" }, count(s.counts[k]))),
            el("td", { title: when(s.lastActive) }, ago(s.lastActive)),
            el("td", {}, when(s.created))
          )
        )
      )
      sync()
    }
    render(data.studies)
    setInterval(() => {
      if (document.hidden) return
      api("/api/studies").then((r) => render(r.studies), (e) => problem(e.message))
    }, 5000)
  }

  // ---------------------------------------------------------------------------------------------
  // Study page
  // ---------------------------------------------------------------------------------------------

  const TITLES = {
    history: "Optimization history",
    intermediate: "Learning curves",
    importance: "Parameter importance",
    "parallel-coordinates": "Parallel coordinates",
    "pareto-front": "Pareto front",
    timeline: "Timeline",
    rungs: "Rungs",
    lineage: "PBT lineage",
    folds: "Cross-validation folds",
    slice: "Slice",
    contour: "Contour",
    rank: "Rank",
    edf: "Empirical distribution"
  }

  const summaryView = (box, name, s) => {
    const counts = ["Complete", "Pruned", "Failed", "Running", "Waiting"].filter((k) => s.counts[k] > 0).map((k) => `${count(s.counts[k])} ${k.toLowerCase()}`)
    box.replaceChildren(
      el("div", { class: "facts" },
        el("span", {}, badge(s.state)),
        el("span", {}, el("b", {}, count(s.trials)), ` trial${s.trials === 1 ? "" : "s"}`, counts.length ? ` (${counts.join(", ")})` : ""),
        el("span", {}, "objectives: ", s.directions.map((d, i) => `${s.objectives[i]} (${d})`).join(", ")),
        s.best === null
          ? null
          : el("span", {}, "best: ", el("b", {}, s.best.values.map(fmt).join(", ")), " at ", el("a", { href: trialHref(name, s.best.number) }, `trial ${s.best.number}`)),
        s.front === null ? null : el("span", {}, "Pareto front: ", el("b", {}, count(s.front)), ` trial${s.front === 1 ? "" : "s"}`),
        el("span", { title: when(s.lastActive) }, `last active ${ago(s.lastActive)}`))
    )
  }

  /** A note, shown, and edited when the dashboard may write. */
  const noteView = (box, note, save) => {
    const show = (text) => {
      // Read-only, a page without notes does not show the box.
      box.hidden = !text && !canWrite
      put(
        box,
        el("h2", {}, "Notes"),
        text ? el("div", { class: "note-text" }, text) : el("p", { class: "sub" }, "No notes."),
        canWrite ? el("button", { type: "button", onclick: () => edit(text) }, text ? "Edit notes" : "Add notes") : null
      )
    }
    const edit = (text) => {
      const area = el("textarea", { rows: 6, "aria-label": "notes" })
      area.value = text || ""
      const status = el("span", { class: "sub" })
      put(
        box,
        el("h2", {}, "Notes"),
        area,
        el("div", { class: "row" },
          el("button", {
            type: "button",
            onclick: () => {
              status.textContent = "saving…"
              save(area.value).then(() => show(area.value), (e) => (status.textContent = e.message))
            }
          }, "Save"),
          el("button", { type: "button", onclick: () => show(text) }, "Cancel"),
          status)
      )
      area.focus()
    }
    show(note)
  }

  const enqueueView = (box, name, params) => {
    if (!canWrite || params.length === 0) return
    box.hidden = false
    const inputs = params.map((p) => {
      const input = p.kind === "categorical"
        ? el("select", { name: p.name }, el("option", { value: "" }, "(sampled)"), p.choices.map((c, i) => el("option", { value: String(i) }, value(c))))
        : el("input", { name: p.name, type: "number", step: p.kind === "int" ? (p.step || 1) : "any", min: p.low, max: p.high, placeholder: "sampled" })
      return { p, input }
    })
    const status = el("span", { class: "sub" })
    const form = el("form", {
      onsubmit: (e) => {
        e.preventDefault()
        const out = {}
        for (const { p, input } of inputs) {
          if (input.value === "") continue
          out[p.name] = p.kind === "categorical" ? p.choices[Number(input.value)] : Number(input.value)
        }
        status.textContent = "enqueueing…"
        post(`${apiOf(name)}/enqueue`, { params: out }).then(
          (r) => (status.textContent = `enqueued as trial ${r.enqueued}: a worker of the study runs it next`),
          (err) => (status.textContent = err.message)
        )
      }
    },
      el("div", { class: "params" }, inputs.map(({ p, input }) => el("label", {}, el("span", {}, p.name), input, el("small", {}, p.text)))),
      el("div", { class: "row" }, el("button", { type: "submit" }, "Enqueue"), status))
    box.replaceChildren(el("h2", {}, "Enqueue a configuration"), el("p", { class: "sub" }, "Parameters left empty are sampled when a worker takes the trial."), form)
  }

  const studyPage = () => {
    const name = data.study
    let seq = data.seq
    let drawnKinds = new Set()
    const cards = new Map() // kind -> card state
    const plots = byId("tk-plots")
    const recent = el("section", { class: "recent", id: "tk-recent" }, el("h2", {}, "Latest changes"), el("ol", {}))
    plots.before(recent)
    recent.hidden = true
    const notApplicable = el("details", { class: "na" })
    summaryView(byId("tk-summary"), name, data.summary)
    noteView(byId("tk-note"), data.note, (text) => post(`${apiOf(name)}/notes`, { text }))
    enqueueView(byId("tk-enqueue"), name, data.params)

    // The plots in the first screen, drawn once: the page's first render (the benchmark reads it).
    const firsts = new Set()
    let firstDone = false
    const firstDrawn = (kind) => {
      firsts.delete(kind)
      if (!firstDone && firsts.size === 0) {
        firstDone = true
        window.__tk.firstRender = performance.now()
        document.body.dataset.rendered = "true"
      }
    }

    // Four plots are fetched and drawn at a time (a first screen's worth: the server computes the
    // next while the browser draws one), so that the page stays responsive while many load.
    const queue = []
    let active = 0
    const next = () => {
      while (active < 4 && queue.length > 0) {
        active++
        queue.shift()().finally(() => {
          active--
          next()
        })
      }
    }
    /** Draws a card's plot (once at a time); resolves when it is drawn. */
    const load = (card) => {
      if (card.loading) return card.loading
      card.loading = new Promise((resolve) => {
        queue.push(() => fetchAndDraw(card).finally(resolve))
        next()
      })
      return card.loading
    }
    const fetchAndDraw = (card) => {
      const q = new URLSearchParams({ width: String(Math.round(card.box.clientWidth || 600)) })
      if (card.seq !== undefined) q.set("seq", String(card.seq))
      if (card.method) q.set("method", card.method)
      if (card.rungs) q.set("rungs", card.rungs)
      return api(`${apiOf(name)}/plot/${card.kind}?${q}`)
        .then((r) => {
          card.seq = r.seq
          return r.same ? undefined : draw(card.box, r)
        })
        .then(() => {
          card.figure.dataset.seq = String(card.seq)
          card.figure.dataset.drawn = "true"
        })
        .catch((e) => draw(card.box, { note: e.message }))
        .finally(() => {
          card.loading = undefined
          firstDrawn(card.kind)
        })
    }

    const observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const card = cards.get(e.target.dataset.kind)
        if (!card) continue
        card.visible = e.isIntersecting
        if (card.visible && card.seq !== seq) load(card)
      }
    }, { rootMargin: "100px" })

    const addCard = (kind) => {
      // Until it is drawn (when it comes into view), the card says what it will show.
      const box = el("div", { class: "chart" }, el("p", { class: "plot-note" }, `${TITLES[kind] || kind}…`))
      // As tall as most plots, so that the first screen holds the plots it will show.
      box.style.height = "480px"
      const controls = el("span", { class: "controls" })
      const card = { kind, box, figure: undefined, visible: false, seq: undefined, loading: undefined, method: undefined, rungs: undefined }
      if (kind === "importance") {
        controls.append(el("select", {
          "aria-label": "importance method",
          onchange: (e) => {
            card.method = e.target.value
            card.seq = undefined
            load(card)
          }
        }, el("option", { value: "ped-anova" }, "PED-ANOVA"), el("option", { value: "fanova" }, "fANOVA")))
      }
      if (kind === "rungs") {
        controls.append(el("input", {
          type: "text",
          placeholder: "rungs: 1,3,9 (inferred)",
          "aria-label": "rung resources",
          onchange: (e) => {
            card.rungs = e.target.value.trim() || undefined
            card.seq = undefined
            load(card)
          }
        }))
      }
      const figure = el("figure", { class: "card", "data-kind": kind, "aria-label": TITLES[kind] || kind }, controls.children.length > 0 ? el("figcaption", {}, controls) : null, box)
      card.figure = figure
      cards.set(kind, card)
      observer.observe(figure)
      return figure
    }

    const layout = (kinds) => {
      const applies = kinds.filter((k) => k.applies).map((k) => k.kind)
      const key = applies.join(",")
      if (key !== [...drawnKinds].join(",")) {
        for (const k of applies) if (!cards.has(k)) plots.append(addCard(k))
        // Keep the order the server gives.
        for (const k of applies) plots.append(plots.querySelector(`figure[data-kind="${k}"]`))
        drawnKinds = new Set(applies)
      }
      const others = kinds.filter((k) => !k.applies)
      notApplicable.replaceChildren(
        el("summary", {}, `${others.length} plot${others.length === 1 ? "" : "s"} not shown`),
        el("ul", {}, others.map((k) => el("li", {}, el("b", {}, TITLES[k.kind] || k.kind), ": ", k.note)))
      )
      notApplicable.hidden = others.length === 0
      plots.after(notApplicable)
    }
    layout(data.kinds)
    // The charts in view now make the first render.
    requestAnimationFrame(() => {
      const top = window.innerHeight
      for (const card of cards.values()) if (card.box.getBoundingClientRect().top < top) firsts.add(card.kind)
      if (firsts.size === 0) firstDrawn(undefined)
    })

    const recentList = recent.querySelector("ol")
    const showRecent = (rows) => {
      if (rows.length === 0) return
      recent.hidden = false
      for (const r of rows.slice(-10)) {
        const item = el("li", {},
          el("a", { href: trialHref(name, r.number) }, `#${r.number}`), " ", badge(r.state), " ",
          r.values ? r.values.map(fmt).join(", ") : r.last ? `step ${fmt(r.last.step)}` : "",
          el("span", { class: "sub" }, " ", Object.entries(r.params).map(([k, v]) => `${k}=${value(v)}`).join(" ")))
        recentList.prepend(item)
      }
      while (recentList.children.length > 10) recentList.lastChild.remove()
    }

    // The plots in view are drawn again when the study changes: at once after a quiet spell, then
    // while it keeps changing at most every plotRefreshMs, and no more than a twentieth of the
    // time (a redraw that took 200 ms, painting included, waits 4 s), so that a fast study keeps
    // its machine. The plots that apply are read with them.
    let last = 0
    let cost = 0
    let timer
    const redraw = () => {
      timer = undefined
      if (document.hidden) return
      const start = performance.now()
      last = Date.now()
      const stale = [...cards.values()].filter((card) => card.visible && card.seq !== seq)
      Promise.all([
        ...stale.map(load),
        api(apiOf(name)).then((d) => layout(d.kinds), (e) => problem(e.message))
      ])
        // The canvas is painted after the charts say they are drawn: a frame later.
        .then(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))))
        .then(() => (cost = performance.now() - start))
    }
    const changed = () => {
      if (timer === undefined) timer = setTimeout(redraw, Math.max(0, last + Math.max(data.plotRefreshMs, 20 * cost) - Date.now()))
    }
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) changed()
    })
    follow(name, seq, (u) => {
      seq = u.seq
      document.body.dataset.seq = String(seq)
      summaryView(byId("tk-summary"), name, u.summary)
      showRecent(u.trials)
      if (u.changed > 0) changed()
    }, { latest: 10 })
  }

  // ---------------------------------------------------------------------------------------------
  // Trials table: sorted, filtered, virtualized
  // ---------------------------------------------------------------------------------------------

  const ROW = 28

  const trialsPage = async () => {
    const name = data.study
    let d
    try {
      d = await api(`${apiOf(name)}/trials`)
    } catch (e) {
      problem(e.message)
      return
    }
    const byNumber = new Map(d.rows.map((r) => [r.id, r]))
    const params = d.params
    const objectives = d.summary.objectives
    const attrKeys = () => [...new Set([...byNumber.values()].flatMap((r) => Object.keys(r.attrs)))].sort()

    // Columns: a title, a width, the value to sort on and the text to show.
    const columns = [
      { key: "number", title: "#", width: 70, get: (r) => r.number, text: (r) => String(r.number) },
      { key: "state", title: "state", width: 96, get: (r) => r.state, text: (r) => r.state, badge: true },
      ...objectives.map((o, i) => ({ key: `value:${i}`, title: o, width: 110, get: (r) => (r.values ? r.values[i] : null), text: (r) => (r.values ? fmt(r.values[i]) : "–"), num: true })),
      { key: "duration", title: "duration", width: 90, get: (r) => (r.finished !== null && r.started !== null ? r.finished - r.started : null), text: (r) => seconds(r.finished !== null && r.started !== null ? r.finished - r.started : null), num: true },
      { key: "started", title: "started", width: 170, get: (r) => r.started, text: (r) => when(r.started) },
      ...params.map((p) => ({ key: `param:${p.name}`, title: p.name, width: 120, get: (r) => r.params[p.name] ?? null, text: (r) => (p.name in r.params ? value(r.params[p.name]) : "–"), num: p.kind !== "categorical" })),
      { key: "steps", title: "steps", width: 70, get: (r) => r.steps, text: (r) => String(r.steps), num: true },
      { key: "reason", title: "reason", width: 260, get: (r) => r.reason, text: (r) => r.reason || "" },
      { key: "attrs", title: "attributes", width: 320, get: (r) => null, text: (r) => Object.entries(r.attrs).map(([k, v]) => `${k}=${value(v)}`).join("  ") }
    ]
    const template = columns.map((c) => `${c.width}px`).join(" ")
    const table = byId("tk-table")
    table.style.setProperty("--cols", template)
    table.style.setProperty("--width", `${columns.reduce((a, c) => a + c.width, 0)}px`)

    // Sort and filters.
    let sortKey = "number"
    let sortDir = 1
    const states = new Set(["Running", "Waiting", "Complete", "Pruned", "Failed"])
    const ranges = new Map() // param -> {min, max} or {choice}
    let attrKey = ""
    let attrText = ""

    const head = byId("tk-head")
    const renderHead = () =>
      head.replaceChildren(...columns.map((c) =>
        el("button", {
          type: "button",
          class: `th${c.num ? " num" : ""}${sortKey === c.key ? (sortDir > 0 ? " asc" : " desc") : ""}`,
          "data-key": c.key,
          title: c.key === "attrs" ? "" : `sort by ${c.title}`,
          disabled: c.key === "attrs",
          onclick: () => {
            if (sortKey === c.key) sortDir = -sortDir
            else [sortKey, sortDir] = [c.key, 1]
            renderHead()
            refresh()
          }
        }, c.title)))
    renderHead()

    const filters = byId("tk-filters")
    const stateBoxes = el("fieldset", {}, el("legend", {}, "state"), ...[...states].map((s) =>
      el("label", {}, el("input", {
        type: "checkbox",
        checked: true,
        "data-state": s,
        onchange: (e) => {
          e.target.checked ? states.add(s) : states.delete(s)
          refresh()
        }
      }), ` ${s}`)))
    const paramBoxes = el("fieldset", {}, el("legend", {}, "parameters"), ...params.map((p) => {
      if (p.kind === "categorical") {
        return el("label", {}, el("span", {}, p.name), el("select", {
          "data-param": p.name,
          onchange: (e) => {
            e.target.value === "" ? ranges.delete(p.name) : ranges.set(p.name, { choice: p.choices[Number(e.target.value)] })
            refresh()
          }
        }, el("option", { value: "" }, "(any)"), p.choices.map((c, i) => el("option", { value: String(i) }, value(c)))))
      }
      const bound = (which) =>
        el("input", {
          type: "number",
          step: "any",
          placeholder: which,
          "data-param": p.name,
          "data-bound": which,
          "aria-label": `${p.name} ${which}`,
          oninput: (e) => {
            const r = { ...(ranges.get(p.name) || {}) }
            const v = e.target.value === "" ? undefined : Number(e.target.value)
            r[which] = v
            r.min === undefined && r.max === undefined ? ranges.delete(p.name) : ranges.set(p.name, r)
            refresh()
          }
        })
      return el("label", {}, el("span", {}, p.name), bound("min"), bound("max"))
    }))
    const keySelect = el("select", {
      "aria-label": "attribute",
      onchange: (e) => {
        attrKey = e.target.value
        refresh()
      }
    })
    const fillKeys = () => {
      const current = keySelect.value
      keySelect.replaceChildren(el("option", { value: "" }, "(attribute)"), ...attrKeys().map((k) => el("option", { value: k }, k)))
      keySelect.value = current
    }
    fillKeys()
    const attrBox = el("fieldset", {}, el("legend", {}, "attributes"), keySelect, el("input", {
      type: "search",
      placeholder: "contains",
      "aria-label": "attribute contains",
      oninput: (e) => {
        attrText = e.target.value.toLowerCase()
        refresh()
      }
    }))
    filters.replaceChildren(stateBoxes, paramBoxes, attrBox)

    const keep = (r) => {
      if (!states.has(r.state)) return false
      for (const [k, f] of ranges) {
        const v = r.params[k]
        if (v === undefined) return false
        if ("choice" in f) {
          if (v !== f.choice) return false
        } else if ((f.min !== undefined && !(v >= f.min)) || (f.max !== undefined && !(v <= f.max))) return false
      }
      if (attrKey !== "" || attrText !== "") {
        const entries = attrKey === "" ? Object.values(r.attrs) : attrKey in r.attrs ? [r.attrs[attrKey]] : undefined
        if (entries === undefined) return false
        if (attrText !== "" && !entries.some((v) => String(v).toLowerCase().includes(attrText))) return false
      }
      return true
    }
    const compare = (col) => (a, b) => {
      const x = col.get(a)
      const y = col.get(b)
      // Missing values last, whichever the direction.
      if (x === null || x === undefined) return y === null || y === undefined ? a.number - b.number : 1
      if (y === null || y === undefined) return -1
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))
      return c === 0 ? a.number - b.number : sortDir * c
    }

    // The rows in view are the only ones in the document.
    // The table's box scrolls; its header sticks to the top.
    const body = byId("tk-table")
    const space = byId("tk-space")
    const pool = []
    let shown = []
    const cellsOf = (div) => div.children
    const makeRow = () => {
      const div = el("a", { class: "tr" }, columns.map((c) => el("span", { class: `td${c.num ? " num" : ""}` })))
      space.append(div)
      return div
    }
    const paint = () => {
      const top = body.scrollTop
      const height = body.clientHeight
      const first = Math.max(0, Math.floor(top / ROW) - 10)
      const last = Math.min(shown.length, Math.ceil((top + height) / ROW) + 10)
      const need = last - first
      while (pool.length < need) pool.push(makeRow())
      for (let i = 0; i < pool.length; i++) {
        const div = pool[i]
        const r = shown[first + i]
        if (i >= need || r === undefined) {
          div.hidden = true
          continue
        }
        div.hidden = false
        div.style.transform = `translateY(${(first + i) * ROW}px)`
        div.href = trialHref(name, r.number)
        div.dataset.number = String(r.number)
        const cells = cellsOf(div)
        columns.forEach((c, k) => {
          const cell = cells[k]
          const t = c.text(r)
          if (c.badge) {
            if (cell.dataset.state !== t) {
              cell.replaceChildren(badge(t))
              cell.dataset.state = t
            }
          } else if (cell.textContent !== t) cell.textContent = t
        })
      }
    }
    let scheduled = false
    const refresh = () => {
      if (scheduled) return
      scheduled = true
      requestAnimationFrame(() => {
        scheduled = false
        const col = columns.find((c) => c.key === sortKey)
        shown = [...byNumber.values()].filter(keep).sort(compare(col))
        space.style.height = `${shown.length * ROW}px`
        byId("tk-count").textContent = `${count(shown.length)} of ${count(byNumber.size)} trials`
        table.dataset.shown = String(shown.length)
        paint()
      })
    }
    body.addEventListener("scroll", () => requestAnimationFrame(paint), { passive: true })
    window.addEventListener("resize", () => requestAnimationFrame(paint))
    refresh()

    let keysSeen = attrKeys().length
    follow(name, d.seq, (u) => {
      for (const r of u.trials) byNumber.set(r.id, r)
      if (u.trials.length > 0) {
        const n = attrKeys().length
        if (n !== keysSeen) {
          keysSeen = n
          fillKeys()
        }
        refresh()
      }
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Trial page
  // ---------------------------------------------------------------------------------------------

  const table = (rows) => el("table", { class: "kv" }, el("tbody", {}, rows.filter(Boolean).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))))
  const json = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2))
  const section = (title, ...children) => el("section", { class: "block" }, el("h2", {}, title), ...children)

  const trialPage = () => {
    const name = data.study
    const number = data.number
    const root = byId("tk-trial")
    let id
    const render = async () => {
      const box = root.querySelector(".curves")
      const width = Math.round((box || root).clientWidth || 900)
      const d = await api(`${apiOf(name)}/trial/${number}?width=${width}`)
      id = d.trial.id
      const t = d.trial
      byId("tk-state").replaceChildren(badge(t.state))
      const parts = []
      parts.push(section("Overview", table([
        ["values", t.values ? t.values.map((v, i) => `${d.objectives[i]} = ${fmt(v)}`).join(", ") : "–"],
        ["duration", seconds(t.duration)],
        ["started", when(t.started)],
        ["finished", when(t.finished)],
        ["worker", t.worker || "–"],
        ["steps reported", String(t.steps)],
        t.reason ? ["reason", t.reason] : null,
        t.stopRequested ? ["stop", `requested ${when(t.stopRequested.at)} by the ${t.stopRequested.by}`] : null
      ])))
      if (canWrite && t.state === "Running" && !t.stopRequested) {
        const status = el("span", { class: "sub" })
        parts.push(el("div", { class: "row" }, el("button", {
          type: "button",
          class: "danger",
          onclick: () => {
            status.textContent = "asking…"
            post(`${apiOf(name)}/trial/${number}/stop`, {}).then(() => (status.textContent = "stop requested"), (e) => (status.textContent = e.message))
          }
        }, "Ask the trial to stop"), status))
      }
      parts.push(section("Parameters", d.params.length === 0
        ? el("p", { class: "sub" }, "No parameters.")
        : el("table", { class: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "name"), el("th", {}, "value"), el("th", {}, "distribution"))),
          el("tbody", {}, d.params.map((p) => el("tr", {}, el("td", {}, p.name), el("td", { class: "num" }, value(p.value)), el("td", { class: "sub" }, p.distribution)))))))
      const curves = el("div", { class: "curves" })
      if (d.curves.length > 0) parts.push(section("Learning curves", curves))
      if (d.lineage) {
        const l = d.lineage
        const link = (n) => el("a", { href: trialHref(name, n) }, `trial ${n}`)
        parts.push(section("Lineage", table([
          l.member !== undefined ? ["member", `${l.member} (generation ${l.generation})`] : null,
          l.parent !== undefined ? ["continues", el("span", {}, link(l.parent), ` (exploited at step ${fmt(l.exploitedAt)})`)] : null,
          l.donor !== undefined ? ["copied from", el("span", {}, link(l.donor), ` at step ${fmt(l.step)}`)] : null,
          l.changes && Object.keys(l.changes).length > 0 ? ["changed", Object.entries(l.changes).map(([k, c]) => `${k}: ${value(c.from)} → ${value(c.to)}`).join(", ")] : null,
          ["chain", el("span", {}, l.chain.flatMap((n, i) => (i === 0 ? [link(n)] : [" → ", link(n)])))],
          l.continuedBy !== null ? ["continued by", link(l.continuedBy)] : null,
          l.donorTo.length > 0 ? ["donor to", el("span", {}, l.donorTo.flatMap((n, i) => (i === 0 ? [link(n)] : [", ", link(n)])))] : null
        ])))
      }
      if (d.failure) {
        const f = d.failure
        parts.push(section("Failure", table([
          ["message", f.message ?? "–"],
          f.tag ? ["error", f.tag] : null,
          f.fields !== undefined ? ["fields", el("pre", {}, json(f.fields))] : null,
          f.thrown !== undefined ? ["thrown", el("pre", {}, json(f.thrown))] : null
        ]), f.stack ? el("pre", { class: "stack" }, f.stack) : null))
      }
      const run = d.run
      if (Object.keys(run.tags).length > 0 || run.notes.length > 0 || run.artifacts.length > 0) {
        parts.push(section("Run",
          Object.keys(run.tags).length > 0 ? table(Object.entries(run.tags).map(([k, v]) => [k, v])) : null,
          run.notes.length > 0 ? el("ul", { class: "notes" }, run.notes.map((n) => el("li", {}, n))) : null,
          run.artifacts.length > 0
            ? el("table", { class: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "artifact"), el("th", {}, "bytes"), el("th", {}, "sha-256"), el("th", {}, "logged"))),
              el("tbody", {}, run.artifacts.map((a) => el("tr", {},
                el("td", {}, el("a", { href: `${apiOf(name)}/trial/${number}/artifact?name=${encodeURIComponent(a.name)}` }, a.name)),
                el("td", { class: "num" }, count(a.bytes)),
                el("td", { class: "sub" }, a.sha256.slice(0, 12)),
                el("td", {}, when(a.loggedAt))))))
            : null))
      }
      if (d.logs.stdout !== null || d.logs.stderr !== null) {
        parts.push(section("Output",
          d.logs.stdout !== null ? el("div", {}, el("h3", {}, "stdout (last lines)"), el("pre", {}, d.logs.stdout)) : null,
          d.logs.stderr !== null ? el("div", {}, el("h3", {}, "stderr (last lines)"), el("pre", {}, d.logs.stderr)) : null))
      }
      if (d.checkpoints) {
        const c = d.checkpoints
        parts.push(section("Checkpoints",
          c.error !== null ? el("p", { class: "sub" }, `the checkpoint store could not be read: ${c.error}`) : null,
          c.error === null && c.kept.length === 0 ? el("p", { class: "sub" }, "none kept") : null,
          c.kept.length > 0
            ? el("table", { class: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "step"), el("th", {}, "bytes"), el("th", {}, "saved"), el("th", {}, "why kept"))),
              el("tbody", {}, c.kept.map((k) => el("tr", {},
                el("td", { class: "num" }, fmt(k.step)),
                el("td", { class: "num" }, count(k.bytes)),
                el("td", {}, k.savedAt === null ? "–" : when(k.savedAt)),
                el("td", {}, k.why)))))
            : null))
      }
      const attrs = (a) => (Object.keys(a).length === 0 ? el("p", { class: "sub" }, "none") : table(Object.entries(a).map(([k, v]) => [k, typeof v === "object" && v !== null ? el("pre", {}, json(v)) : value(v)])))
      parts.push(section("Attributes", el("h3", {}, "user"), attrs(d.userAttrs), el("h3", {}, "system"), attrs(d.systemAttrs)))
      const note = el("section", { class: "note" })
      parts.push(note)
      noteView(note, d.note, (text) => post(`${apiOf(name)}/notes`, { text, trial: number }))
      charts.forEach((c) => c.dispose())
      charts.clear()
      root.replaceChildren(...parts)
      await Promise.all(d.curves.map((c) => {
        const box = el("div", { class: "chart" })
        curves.append(box)
        return draw(box, c)
      }))
      return d
    }
    let pending = false
    let again = false
    const update = () => {
      if (pending) {
        again = true
        return
      }
      pending = true
      render().catch((e) => problem(e.message)).finally(() => {
        pending = false
        if (again) {
          again = false
          update()
        }
      })
    }
    render().then((d) => {
      window.__tk.firstRender = performance.now()
      document.body.dataset.rendered = "true"
      follow(name, d.seq, (u) => {
        if (u.trials.some((r) => r.id === id)) update()
      }, { trial: id })
    }, (e) => problem(e.message))
  }

  // ---------------------------------------------------------------------------------------------
  // Comparison
  // ---------------------------------------------------------------------------------------------

  const comparePage = () => {
    const names = data.studies
    const pick = byId("tk-pick")
    pick.replaceChildren(
      el("span", { class: "sub" }, "studies:"),
      ...data.all.map((n) => el("label", {}, el("input", { type: "checkbox", name: "study", value: n, checked: names.includes(n) }), ` ${n}`)),
      el("button", { type: "submit" }, "Compare")
    )
    if (names.length === 0) {
      byId("tk-plots").replaceChildren(el("p", { class: "sub" }, "Pick the studies to compare."))
      window.__tk.firstRender = performance.now()
      document.body.dataset.rendered = "true"
      return
    }
    const plots = byId("tk-plots")
    const width = Math.round(plots.clientWidth / (plots.clientWidth > 1100 ? 2 : 1)) - 24
    const q = new URLSearchParams(names.map((n) => ["study", n]))
    q.set("width", String(width))
    api(`/api/compare?${q}`).then(async (d) => {
      const t = byId("tk-compare-table")
      t.querySelector("thead").replaceChildren(el("tr", {}, ["study", "state", "objectives", "trials", "complete", "pruned", "failed", "best", "last active"].map((h) => el("th", {}, h))))
      t.querySelector("tbody").replaceChildren(...d.summaries.map((s) => el("tr", {},
        el("td", {}, el("a", { href: studyHref(s.name), class: "name" }, s.name)),
        el("td", {}, badge(s.state)),
        el("td", {}, s.directions.map((dir, i) => `${s.objectives[i]} (${dir})`).join(", ")),
        el("td", { class: "num" }, count(s.trials)),
        el("td", { class: "num" }, count(s.counts.Complete)),
        el("td", { class: "num" }, count(s.counts.Pruned)),
        el("td", { class: "num" }, count(s.counts.Failed)),
        el("td", { class: "num" }, s.best !== null ? `${s.best.values.map(fmt).join(", ")} (#${s.best.number})` : s.front !== null ? `front of ${count(s.front)}` : "–"),
        el("td", { title: when(s.lastActive) }, ago(s.lastActive)))))
      await Promise.all(d.plots.map((p) => {
        const box = el("div", { class: "chart" })
        const figure = el("figure", { class: "card", "data-kind": p.kind, "aria-label": TITLES[p.kind] }, box)
        plots.append(figure)
        return draw(box, p).then(() => (figure.dataset.drawn = "true"))
      }))
      window.__tk.firstRender = performance.now()
      document.body.dataset.rendered = "true"
    }, (e) => problem(e.message))
  }

  const pages = { studies: studiesPage, study: studyPage, trials: trialsPage, trial: trialPage, compare: comparePage }
  const run = pages[page]
  if (run) {
    try {
      const r = run()
      if (r && typeof r.catch === "function") r.catch((e) => problem(e.message))
    } catch (e) {
      problem(e.message)
    }
  }
  // The first screen's plots are asked for (in the next frame, where the study page sees what is
  // in view): now ECharts.
  requestAnimationFrame(() => setTimeout(echartsLoaded, 0))
  if (page === "studies" || page === "trials" || page === "error") {
    requestAnimationFrame(() => {
      window.__tk.firstRender = performance.now()
      document.body.dataset.rendered = "true"
    })
  }
})()
