// The block editor (issue 17): the email as sections → columns → blocks, edited in place.
// The design lives in `state` (the JSON the server validates and compiles); every change goes
// through `change()`, which keeps the undo snapshots and redraws. The canvas is plain DOM in the
// app's page: text blocks are contenteditable with HTML the server sanitised (nh3); raw HTML
// and the previews are only ever shown in sandbox="" iframes, so no user script runs here.
(function () {
  "use strict";

  const root = document.getElementById("block-editor");
  if (!root) return;
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  const t = JSON.parse(document.getElementById("editor-strings").textContent);
  const csrfToken = root.querySelector("[name=csrfmiddlewaretoken]").value;
  const canvas = document.getElementById("editor-canvas");
  const propertiesPanel = document.getElementById("editor-properties");
  const statusLine = document.getElementById("editor-status");
  const HISTORY_LIMIT = 100;

  let state = config.design;
  let snapshots = [JSON.stringify(state)];
  let historyIndex = 0;
  let selected = null; // {kind: "block"|"section", id}
  let savedRange = null; // the text selection, kept while a toolbar control has the focus
  let dirty = false;

  function newId() {
    return Math.random().toString(16).slice(2, 14).padEnd(12, "0");
  }

  function clone(value) {
    return JSON.parse(JSON.stringify(value));
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.classList.toggle("field-error", Boolean(isError));
  }

  function request(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  }

  // Finding things in the design.
  function eachBlock(callback) {
    state.sections.forEach((section, s) =>
      section.columns.forEach((column, c) =>
        column.blocks.forEach((block, b) => callback(block, column, section, s, c, b))
      )
    );
  }

  function findBlock(id) {
    let found = null;
    eachBlock((block, column, section) => {
      if (block.id === id) found = { block, column, section };
    });
    return found;
  }

  function findSection(id) {
    return state.sections.find((section) => section.id === id) || null;
  }

  // History: a snapshot per change; typing in a text block makes one snapshot when it blurs.
  function change(mutate, options) {
    mutate();
    const snapshot = JSON.stringify(state);
    if (snapshot !== snapshots[historyIndex]) {
      snapshots = snapshots.slice(0, historyIndex + 1);
      snapshots.push(snapshot);
      if (snapshots.length > HISTORY_LIMIT) snapshots.shift();
      historyIndex = snapshots.length - 1;
      dirty = true;
    }
    if (!options || options.redraw !== false) render(options && options.focus);
    updateHistoryButtons();
  }

  function travel(step) {
    const target = historyIndex + step;
    if (target < 0 || target >= snapshots.length) return;
    historyIndex = target;
    state = JSON.parse(snapshots[historyIndex]);
    dirty = true;
    if (selected && !(selected.kind === "block" ? findBlock(selected.id) : findSection(selected.id))) {
      selected = null;
    }
    render();
    updateHistoryButtons();
    say(step < 0 ? t.undone : t.redone);
  }

  function updateHistoryButtons() {
    root.querySelector("[data-command=undo]").disabled = historyIndex === 0;
    root.querySelector("[data-command=redo]").disabled = historyIndex >= snapshots.length - 1;
  }

  // Operations on blocks and sections (drag and drop and the keyboard buttons share them).
  function newBlock(type) {
    const block = { id: newId(), type, ...clone(config.blockDefaults[type]) };
    if (type === "text") block.html = "<p>" + t.newText + "</p>";
    if (type === "button") Object.assign(block, { label: t.newButton, href: "https://" });
    if (type === "image") Object.assign(block, { src: "", alt: "" });
    if (type === "social") block.items = [{ network: "facebook", href: "https://www.facebook.com/" }];
    if (type === "html") block.html = "<p>HTML</p>";
    if (type === "cart") Object.assign(block, { label: t.cartButton, total_label: t.cartTotal });
    return block;
  }

  function newSection(columns) {
    return {
      id: newId(),
      ...clone(config.sectionDefaults),
      columns: Array.from({ length: columns }, () => ({ ...clone(config.columnDefaults), blocks: [] })),
    };
  }

  function addBlock(type) {
    const block = newBlock(type);
    change(() => {
      const place = selected && selected.kind === "block" ? findBlock(selected.id) : null;
      if (place) {
        place.column.blocks.splice(place.column.blocks.indexOf(place.block) + 1, 0, block);
      } else {
        const section = (selected && findSection(selected.id)) || state.sections[state.sections.length - 1];
        if (!section) state.sections.push(newSection(1));
        (section || state.sections[state.sections.length - 1]).columns[0].blocks.push(block);
      }
      selected = { kind: "block", id: block.id };
    }, { focus: `[data-block-id="${block.id}"]` });
    say(t.blockAdded.replace("%s", config.blockLabels[type]));
  }

  function addSection(columns) {
    const section = newSection(columns);
    change(() => {
      const after = selected && selected.kind === "section" ? state.sections.findIndex((s) => s.id === selected.id) : -1;
      if (after >= 0) state.sections.splice(after + 1, 0, section);
      else state.sections.push(section);
      selected = { kind: "section", id: section.id };
    }, { focus: `[data-section-id="${section.id}"]` });
  }

  function moveBlock(id, step) {
    const place = findBlock(id);
    const blocks = place.column.blocks;
    const index = blocks.indexOf(place.block);
    const target = index + step;
    if (target >= 0 && target < blocks.length) {
      change(() => blocks.splice(target, 0, blocks.splice(index, 1)[0]), {
        focus: `[data-block-id="${id}"] [data-action="${step < 0 ? "up" : "down"}"]`,
      });
      return;
    }
    // Past the end of its column: into the neighbour column, else the neighbour section.
    const sections = state.sections;
    const sectionIndex = sections.indexOf(place.section);
    const columnIndex = place.section.columns.indexOf(place.column);
    let destination = place.section.columns[columnIndex + step];
    if (!destination) {
      const section = sections[sectionIndex + step];
      if (!section) return;
      destination = step < 0 ? section.columns[section.columns.length - 1] : section.columns[0];
    }
    change(() => {
      blocks.splice(index, 1);
      if (step < 0) destination.blocks.push(place.block);
      else destination.blocks.unshift(place.block);
    }, { focus: `[data-block-id="${id}"] [data-action="${step < 0 ? "up" : "down"}"]` });
  }

  function duplicateBlock(id) {
    const place = findBlock(id);
    const copy = { ...clone(place.block), id: newId() };
    change(() => {
      place.column.blocks.splice(place.column.blocks.indexOf(place.block) + 1, 0, copy);
      selected = { kind: "block", id: copy.id };
    }, { focus: `[data-block-id="${copy.id}"]` });
    say(t.duplicated);
  }

  function deleteBlock(id) {
    const place = findBlock(id);
    const index = place.column.blocks.indexOf(place.block);
    change(() => {
      place.column.blocks.splice(index, 1);
      selected = null;
    }, { focus: "#editor-palette button" });
    say(t.deleted);
  }

  function moveSection(id, step) {
    const index = state.sections.findIndex((s) => s.id === id);
    const target = index + step;
    if (target < 0 || target >= state.sections.length) return;
    change(() => state.sections.splice(target, 0, state.sections.splice(index, 1)[0]), {
      focus: `[data-section-id="${id}"] > .section-bar [data-action="${step < 0 ? "up" : "down"}"]`,
    });
  }

  function freshCopy(section) {
    const copy = clone(section);
    copy.id = newId();
    copy.columns.forEach((column) => column.blocks.forEach((block) => (block.id = newId())));
    return copy;
  }

  function duplicateSection(id) {
    const index = state.sections.findIndex((s) => s.id === id);
    const copy = freshCopy(state.sections[index]);
    change(() => state.sections.splice(index + 1, 0, copy), { focus: `[data-section-id="${copy.id}"]` });
    say(t.duplicated);
  }

  function deleteSection(id) {
    change(() => {
      state.sections = state.sections.filter((s) => s.id !== id);
      selected = null;
    }, { focus: "#editor-section-buttons button" });
    say(t.deleted);
  }

  function toggle(item, field) {
    change(() => (item[field] = !item[field]), { focus: document.activeElement && focusSelector(document.activeElement) });
  }

  function focusSelector(node) {
    const holder = node.closest("[data-block-id], [data-section-id]");
    if (!holder || !node.dataset.action) return null;
    const key = holder.dataset.blockId ? `[data-block-id="${holder.dataset.blockId}"]` : `[data-section-id="${holder.dataset.sectionId}"] > .section-bar`;
    return `${key} [data-action="${node.dataset.action}"]`;
  }

  // Drawing the canvas.
  function select(kind, id) {
    selected = { kind, id };
    for (const node of canvas.querySelectorAll(".is-selected")) node.classList.remove("is-selected");
    const node = canvas.querySelector(kind === "block" ? `[data-block-id="${id}"]` : `[data-section-id="${id}"]`);
    if (node) node.classList.add("is-selected");
    renderProperties();
  }

  function toolButton(action, label, handler, pressed) {
    return el("button", {
      type: "button",
      class: "tool",
      "data-action": action,
      "aria-label": label,
      title: label,
      "aria-pressed": pressed === undefined ? null : String(Boolean(pressed)),
      onclick: (event) => {
        event.stopPropagation();
        handler();
      },
    }, document.createTextNode(TOOL_ICONS[action] || action));
  }

  // Short visible words (icon fonts are not everywhere); the accessible name is the full label.
  const TOOL_ICONS = { up: "↑", down: "↓", duplicate: t.duplicateShort, delete: "✕", "hide-mobile": t.mobileShort, "hide-desktop": t.desktopShort };

  function visibilityBadges(item) {
    const badges = el("span", { class: "visibility-badges" });
    if (item.hide_on_mobile) badges.append(el("span", { class: "badge", text: t.hiddenOnMobile }));
    if (item.hide_on_desktop) badges.append(el("span", { class: "badge", text: t.hiddenOnDesktop }));
    return badges;
  }

  function blockBody(block) {
    const styles = state.styles;
    const font = block.font_family || styles.font_family;
    if (block.type === "text") {
      const editable = el("div", {
        class: "text-editable",
        contenteditable: "true",
        role: "textbox",
        "aria-multiline": "true",
        "aria-label": t.textContent,
        "data-testid": "text-editable",
      });
      editable.innerHTML = block.html; // sanitised by the server (nh3) on load and save
      editable.style.cssText = `font-family:${font};font-size:${block.font_size}px;line-height:${block.line_height};color:${block.color || styles.text_color};text-align:${block.align};font-weight:${block.font_weight};letter-spacing:${block.letter_spacing}px`;
      editable.addEventListener("focus", () => select("block", block.id));
      editable.addEventListener("input", () => {
        block.html = editable.innerHTML;
        dirty = true;
      });
      editable.addEventListener("blur", () => change(() => {}, { redraw: false }));
      editable.addEventListener("paste", (event) => {
        // Plain text only: pasted markup would bring styles and scripts from elsewhere.
        event.preventDefault();
        document.execCommand("insertText", false, event.clipboardData.getData("text/plain"));
      });
      return editable;
    }
    if (block.type === "image") {
      if (!block.src) return el("div", { class: "image-placeholder", text: t.chooseImage });
      const image = el("img", { alt: block.alt || "", "data-testid": "image-block" });
      image.src = block.src;
      if (block.width) image.style.width = `${Math.min(block.width, 600)}px`;
      return el("div", { style: `text-align:${block.align}` }, image);
    }
    if (block.type === "button") {
      const button = el("span", { class: "button-preview", text: block.label });
      button.style.cssText = `background:${block.background_color};color:${block.color};border-radius:${block.border_radius}px;font-size:${block.font_size}px;font-weight:${block.font_weight};font-family:${font}`;
      return el("div", { style: `text-align:${block.align}` }, button);
    }
    if (block.type === "divider") {
      return el("hr", { style: `border:0;border-top:${block.thickness}px solid ${block.color}` });
    }
    if (block.type === "spacer") {
      return el("div", { class: "spacer-preview", style: `height:${block.height}px`, "aria-label": `${block.height} px` });
    }
    if (block.type === "social") {
      return el("div", { style: `text-align:${block.align}` }, ...block.items.map((item) => el("span", { class: "badge", text: item.network })));
    }
    if (block.type === "cart") {
      // A sample of what each contact sees: the real rows come from their cart at send time.
      const cell = (text, align) => el("td", { text, style: `padding:4px 8px;text-align:${align || "left"}` });
      const rows = Array.from({ length: Math.min(block.max_items, 2) }, (_, index) => el("tr", {},
        block.show_images ? el("td", {}, el("span", { class: "cart-image-sample", "aria-hidden": "true" })) : null,
        cell(`${t.cartSampleItem} ${index + 1}`), cell("× 1"), cell("19.90 EUR", "right")));
      if (block.total_label) rows.push(el("tr", {}, el("td", { colspan: block.show_images ? 3 : 2, text: block.total_label, style: "padding:4px 8px;font-weight:bold" }), cell("39.80 EUR", "right")));
      const table = el("table", { class: "cart-preview", "data-testid": "cart-preview" }, el("caption", { text: t.cartSample.replace("%s", block.max_items) }), ...rows);
      table.style.cssText = `font-family:${font};font-size:${block.font_size}px;color:${block.color || styles.text_color}`;
      const parts = [table];
      if (block.label) {
        const button = el("span", { class: "button-preview", text: block.label });
        button.style.cssText = `background:${block.button_color};color:${block.button_text_color};font-family:${font}`;
        parts.push(el("div", { style: "text-align:center" }, button));
      }
      if (block.empty_text) parts.push(el("p", { class: "help", text: `${t.cartEmptyShown} ${block.empty_text}` }));
      return el("div", {}, ...parts);
    }
    if (block.type === "html") {
      // Raw HTML never runs in the app's origin: an iframe with every sandbox restriction.
      const frame = el("iframe", { sandbox: "", title: config.blockLabels.html, class: "raw-preview" });
      frame.srcdoc = block.html;
      return frame;
    }
    return el("div", { text: block.type });
  }

  function renderBlock(block) {
    const label = config.blockLabels[block.type];
    const bar = el("div", { class: "block-bar", role: "toolbar", "aria-label": `${t.block} ${label}` },
      el("span", { class: "block-label", text: label }),
      visibilityBadges(block),
      toolButton("up", t.moveUp, () => moveBlock(block.id, -1)),
      toolButton("down", t.moveDown, () => moveBlock(block.id, 1)),
      toolButton("duplicate", t.duplicate, () => duplicateBlock(block.id)),
      toolButton("delete", t.delete, () => deleteBlock(block.id)),
      toolButton("hide-mobile", t.hideOnMobile, () => toggle(block, "hide_on_mobile"), block.hide_on_mobile),
      toolButton("hide-desktop", t.hideOnDesktop, () => toggle(block, "hide_on_desktop"), block.hide_on_desktop),
    );
    const node = el("div", {
      class: "block" + (selected && selected.id === block.id ? " is-selected" : "") + (block.hide_on_mobile || block.hide_on_desktop ? " is-partly-hidden" : ""),
      tabindex: "0",
      "aria-label": `${t.block} ${label}`,
      "data-block-id": block.id,
      "data-type": block.type,
      "data-testid": "editor-block",
      onclick: () => select("block", block.id),
      onkeydown: (event) => {
        if (event.target !== node) return;
        if (event.key === "Enter") select("block", block.id);
        if (event.key === "Delete") deleteBlock(block.id);
        if (event.altKey && event.key === "ArrowUp") { event.preventDefault(); moveBlock(block.id, -1); }
        if (event.altKey && event.key === "ArrowDown") { event.preventDefault(); moveBlock(block.id, 1); }
      },
    }, bar, el("div", { class: "block-body", style: `padding:${cssPadding(block.padding || "0")}` }, blockBody(block)));
    return node;
  }

  function cssPadding(value) {
    return value.split(" ").map((part) => (/px$/.test(part) ? part : `${part}px`)).join(" ");
  }

  function renderSection(section, index) {
    const bar = el("div", { class: "section-bar", role: "toolbar", "aria-label": `${t.section} ${index + 1}` },
      el("button", { type: "button", class: "section-label link", text: `${t.section} ${index + 1} · ${section.columns.length} ${t.columns}`, onclick: () => select("section", section.id) }),
      visibilityBadges(section),
      toolButton("up", t.moveSectionUp, () => moveSection(section.id, -1)),
      toolButton("down", t.moveSectionDown, () => moveSection(section.id, 1)),
      toolButton("duplicate", t.duplicateSection, () => duplicateSection(section.id)),
      toolButton("delete", t.deleteSection, () => deleteSection(section.id)),
      toolButton("hide-mobile", t.hideOnMobile, () => toggle(section, "hide_on_mobile"), section.hide_on_mobile),
      toolButton("hide-desktop", t.hideOnDesktop, () => toggle(section, "hide_on_desktop"), section.hide_on_desktop),
    );
    const columns = el("div", { class: "section-columns" });
    section.columns.forEach((column, c) => {
      const list = el("div", {
        class: "column",
        "data-section-id-of": section.id,
        "data-column": String(c),
        "aria-label": `${t.column} ${c + 1}`,
        style: column.width ? `flex:0 0 ${column.width}` : null,
      });
      if (!column.blocks.length) list.append(el("p", { class: "column-empty", text: t.emptyColumn }));
      column.blocks.forEach((block) => list.append(renderBlock(block)));
      columns.append(list);
    });
    const node = el("div", {
      class: "section" + (selected && selected.id === section.id ? " is-selected" : ""),
      "data-section-id": section.id,
      "data-testid": "editor-section",
      style: `background:${section.background_color || state.styles.content_background};padding:${cssPadding(section.padding)}`,
    }, bar, columns);
    return node;
  }

  function render(focus) {
    canvas.replaceChildren();
    canvas.style.cssText = `--email-width:${state.styles.width}px;background:${state.styles.background_color};font-family:${state.styles.font_family}`;
    const sections = el("div", { class: "sections", style: `max-width:${state.styles.width}px` });
    state.sections.forEach((section, index) => sections.append(renderSection(section, index)));
    if (!state.sections.length) sections.append(el("p", { class: "column-empty", text: t.emptyEmail }));
    canvas.append(sections);
    bindSortables(sections);
    renderProperties();
    if (focus) {
      const target = root.querySelector(focus);
      if (target) target.focus();
    }
  }

  // Drag and drop (SortableJS): the DOM order after a drop is read back into the design.
  // forceFallback: Sortable draws the drag itself from pointer events, the same in every
  // browser (native HTML5 drag and drop differs between them, and with touch).
  const DRAG_OPTIONS = { animation: 120, forceFallback: true, fallbackTolerance: 3 };
  let sortables = [];
  function bindSortables(sections) {
    sortables.forEach((sortable) => sortable.destroy());
    sortables = [];
    if (!window.Sortable) return;
    sortables.push(Sortable.create(sections, {
      ...DRAG_OPTIONS,
      handle: ".section-bar",
      draggable: ".section",
      onEnd: (event) => {
        if (event.oldIndex === event.newIndex) return;
        change(() => state.sections.splice(event.newIndex, 0, state.sections.splice(event.oldIndex, 1)[0]));
      },
    }));
    for (const list of canvas.querySelectorAll(".column")) {
      sortables.push(Sortable.create(list, {
        ...DRAG_OPTIONS,
        group: "blocks",
        draggable: ".block",
        handle: ".block-bar",
        onAdd: (event) => {
          const type = event.item.dataset.newBlock;
          if (!type) return; // a move between columns: handled by the source's onEnd
          event.item.remove();
          const block = newBlock(type);
          const column = columnOf(event.to);
          change(() => {
            column.blocks.splice(blockIndex(event.to, event.newDraggableIndex), 0, block);
            selected = { kind: "block", id: block.id };
          });
        },
        onEnd: (event) => {
          if (event.item.dataset.newBlock) return;
          const from = columnOf(event.from);
          const to = columnOf(event.to);
          if (from === to && event.oldDraggableIndex === event.newDraggableIndex) return;
          change(() => {
            const [block] = from.blocks.splice(event.oldDraggableIndex, 1);
            to.blocks.splice(event.newDraggableIndex, 0, block);
          });
        },
      }));
    }
  }

  function columnOf(list) {
    return findSection(list.dataset.sectionIdOf).columns[Number(list.dataset.column)];
  }

  function blockIndex(list, index) {
    return Math.min(index === undefined ? 0 : index, columnOf(list).blocks.length);
  }

  // The palette.
  function renderPalette() {
    const palette = document.getElementById("editor-palette");
    for (const type of Object.keys(config.blockLabels)) {
      palette.append(el("button", {
        type: "button",
        class: "secondary palette-block",
        "data-new-block": type,
        "data-testid": `add-${type}`,
        text: `+ ${config.blockLabels[type]}`,
        onclick: () => addBlock(type),
      }));
    }
    if (window.Sortable) {
      Sortable.create(palette, { ...DRAG_OPTIONS, group: { name: "blocks", pull: "clone", put: false }, sort: false, draggable: ".palette-block" });
    }
    const sectionButtons = document.getElementById("editor-section-buttons");
    for (const count of [1, 2, 3, 4]) {
      sectionButtons.append(el("button", {
        type: "button",
        class: "secondary",
        "data-testid": `add-section-${count}`,
        text: t.addSection.replace("%s", count),
        onclick: () => addSection(count),
      }));
    }
    renderSavedSections();
    renderStyles();
  }

  // Saved blocks: sections kept for reuse (a header, a footer), inserted as copies.
  function renderSavedSections() {
    const holder = document.getElementById("editor-saved-sections");
    holder.replaceChildren();
    if (!config.savedSections.length) holder.append(el("p", { text: t.noSavedBlocks }));
    for (const saved of config.savedSections) {
      holder.append(el("div", { class: "saved-section" },
        el("button", {
          type: "button", class: "secondary", text: `+ ${saved.name}`, "data-testid": "insert-saved-section",
          onclick: () => {
            const copy = freshCopy(saved.section);
            change(() => {
              const after = selected && selected.kind === "section" ? state.sections.findIndex((s) => s.id === selected.id) : -1;
              if (after >= 0) state.sections.splice(after + 1, 0, copy);
              else state.sections.push(copy);
              selected = { kind: "section", id: copy.id };
            }, { focus: `[data-section-id="${copy.id}"] .section-label` });
            say(t.savedBlockInserted.replace("%s", saved.name));
          },
        }),
        el("button", {
          type: "button", class: "tool", text: "✕", "aria-label": t.deleteSavedBlock.replace("%s", saved.name),
          onclick: async () => {
            const response = await request(`${config.savedSectionsUrl}${saved.id}/delete/`, {});
            if (!response.ok) return;
            config.savedSections = config.savedSections.filter((item) => item.id !== saved.id);
            renderSavedSections();
            say(t.deleted);
          },
        })));
    }
  }

  function saveSectionForReuse(section) {
    const name = el("input", { type: "text", id: "prop-saved-name", maxlength: "100", "data-testid": "saved-section-name" });
    const button = el("button", {
      type: "button", class: "secondary", text: t.saveForReuse, "data-testid": "save-section-for-reuse",
      onclick: async () => {
        const response = await request(config.savedSectionsUrl, { name: name.value, section });
        const answer = await response.json();
        if (!response.ok) { say(answer.message, true); name.focus(); return; }
        config.savedSections = [...config.savedSections, answer].sort((a, b) => a.name.localeCompare(b.name));
        renderSavedSections();
        say(t.savedBlockSaved.replace("%s", answer.name));
      },
    });
    return el("fieldset", {}, el("legend", { text: t.reuse }), el("label", { for: "prop-saved-name", text: t.savedBlockName }), name, button);
  }

  // Forms: one per selection, built from a field list.
  const ALIGN = ["left", "center", "right"];
  const FIELDS = {
    text: [["align", "select", [...ALIGN, "justify"]], ["font_family", "font"], ["font_size", "number", 8, 72], ["line_height", "number", 1, 3, 0.05], ["color", "color"], ["font_weight", "select", ["normal", "bold"]], ["letter_spacing", "number", 0, 20], ["padding", "text"]],
    image: [["alt", "text"], ["href", "url"], ["width", "number", 16, 800], ["align", "select", ALIGN], ["padding", "text"], ["src", "url"]],
    button: [["label", "text"], ["href", "url"], ["background_color", "color"], ["color", "color"], ["border_radius", "number", 0, 50], ["font_size", "number", 8, 40], ["font_weight", "select", ["normal", "bold"]], ["align", "select", ALIGN], ["padding", "text"], ["inner_padding", "text"]],
    divider: [["color", "color"], ["thickness", "number", 1, 10], ["padding", "text"]],
    spacer: [["height", "number", 4, 200]],
    social: [["icon_size", "number", 16, 64], ["icon_color", "color"], ["align", "select", ALIGN], ["padding", "text"]],
    cart: [["max_items", "number", 1, 10], ["show_images", "checkbox"], ["label", "text"], ["total_label", "text"], ["empty_text", "text"], ["button_color", "color"], ["button_text_color", "color"], ["font_family", "font"], ["font_size", "number", 8, 40], ["color", "color"], ["padding", "text"]],
    html: [["html", "textarea"]],
    section: [["background_color", "color"], ["padding", "text"]],
  };

  function field(item, spec, onChange) {
    const [name, kind, ...options] = spec;
    const id = `prop-${name}`;
    const label = el("label", { for: id, text: t.fields[name] || name });
    let input;
    if (kind === "select") {
      input = el("select", { id }, ...options[0].map((value) => el("option", { value, text: t.choices[value] || value, selected: item[name] === value })));
    } else if (kind === "font") {
      input = el("select", { id }, el("option", { value: "", text: t.inherit }), ...config.fonts.map((font) => el("option", { value: font.value, text: font.label, selected: item[name] === font.value })));
    } else if (kind === "textarea") {
      input = el("textarea", { id, rows: "10", spellcheck: "false" });
      input.value = item[name] || "";
    } else if (kind === "checkbox") {
      input = el("input", { id, type: "checkbox", checked: Boolean(item[name]) });
    } else if (kind === "color") {
      // A colour may be empty (inherit): a text input, with a picker beside it.
      input = el("input", { id, type: "text", pattern: "#[0-9a-fA-F]{3,6}", placeholder: t.inherit, size: "8" });
      input.value = item[name] || "";
    } else {
      input = el("input", { id, type: kind === "number" ? "number" : kind === "url" ? "url" : "text" });
      if (kind === "number") Object.assign(input, { min: options[0], max: options[1], step: options[2] || 1 });
      input.value = item[name] === null || item[name] === undefined ? "" : item[name];
    }
    if (name === "alt") input.required = true;
    input.addEventListener("change", () => {
      let value = kind === "checkbox" ? input.checked : input.value;
      if (kind === "number") value = value === "" ? (name === "width" ? null : item[name]) : Number(value);
      onChange(name, value);
    });
    const wrapper = el("div", { class: "prop" }, label, input);
    if (kind === "color") {
      const picker = el("input", { type: "color", "aria-label": `${t.fields[name] || name} (${t.picker})`, tabindex: "-1" });
      picker.value = /^#[0-9a-fA-F]{6}$/.test(item[name] || "") ? item[name] : "#000000";
      picker.addEventListener("change", () => onChange(name, picker.value));
      wrapper.append(picker);
    }
    return wrapper;
  }

  function updateItem(item, name, value) {
    change(() => (item[name] = value), { focus: `#prop-${name}` });
  }

  function renderProperties() {
    propertiesPanel.replaceChildren();
    if (!selected) {
      propertiesPanel.append(el("p", { text: t.selectSomething }));
      return;
    }
    if (selected.kind === "section") {
      const section = findSection(selected.id);
      if (!section) return;
      propertiesPanel.append(el("h3", { text: t.section }));
      propertiesPanel.append(columnCount(section));
      for (const spec of FIELDS.section) propertiesPanel.append(field(section, spec, (name, value) => updateItem(section, name, value)));
      propertiesPanel.append(visibilityFields(section));
      propertiesPanel.append(saveSectionForReuse(section));
      return;
    }
    const place = findBlock(selected.id);
    if (!place) return;
    const block = place.block;
    propertiesPanel.append(el("h3", { text: config.blockLabels[block.type] }));
    if (block.type === "text") propertiesPanel.append(textToolbar(block));
    if (block.type === "image") propertiesPanel.append(imageUpload(block));
    for (const spec of FIELDS[block.type]) propertiesPanel.append(field(block, spec, (name, value) => updateItem(block, name, value)));
    if (block.type === "social") propertiesPanel.append(socialItems(block));
    propertiesPanel.append(visibilityFields(block));
  }

  // Fewer columns: the blocks of the removed ones move to the last one kept, nothing is lost.
  function columnCount(section) {
    const input = el("select", { id: "prop-columns", "data-testid": "prop-columns" },
      ...[1, 2, 3, 4].map((n) => el("option", { value: String(n), text: String(n), selected: section.columns.length === n })));
    input.addEventListener("change", () => change(() => {
      const wanted = Number(input.value);
      while (section.columns.length < wanted) section.columns.push({ ...clone(config.columnDefaults), blocks: [] });
      while (section.columns.length > wanted) {
        const removed = section.columns.pop();
        section.columns[section.columns.length - 1].blocks.push(...removed.blocks);
      }
      section.columns.forEach((column) => (column.width = ""));
    }, { focus: "#prop-columns" }));
    return el("div", { class: "prop" }, el("label", { for: "prop-columns", text: t.columnCount }), input);
  }

  function visibilityFields(item) {
    const fieldset = el("fieldset", {}, el("legend", { text: t.visibility }));
    for (const [name, label] of [["hide_on_mobile", t.hideOnMobile], ["hide_on_desktop", t.hideOnDesktop]]) {
      const box = el("input", { type: "checkbox", id: `prop-${name}`, checked: item[name], "data-testid": `prop-${name}` });
      box.addEventListener("change", () => updateItem(item, name, box.checked));
      fieldset.append(el("label", {}, box, document.createTextNode(` ${label}`)));
    }
    return fieldset;
  }

  // Rich text: the commands act on the text block's selection, remembered when the focus
  // leaves it for a toolbar control (keyboard users reach the toolbar with Tab).
  document.addEventListener("selectionchange", () => {
    const selection = document.getSelection();
    if (selection.rangeCount && selection.anchorNode && selection.anchorNode.parentElement && selection.anchorNode.parentElement.closest(".text-editable")) {
      savedRange = selection.getRangeAt(0).cloneRange();
    }
  });
  // "selectionchange" is queued, not immediate: typing then going straight to the merge-tag
  // menu could leave the range of a few keystrokes earlier, and the tag landed mid-word. The
  // caret is taken again, synchronously, after each input and as the focus leaves the text.
  const keepCaret = (event) => {
    if (!event.target.closest || !event.target.closest(".text-editable")) return;
    const selection = document.getSelection();
    if (selection.rangeCount) savedRange = selection.getRangeAt(0).cloneRange();
  };
  document.addEventListener("input", keepCaret);
  document.addEventListener("focusout", keepCaret);

  function restoreSelection(block) {
    const editable = canvas.querySelector(`[data-block-id="${block.id}"] .text-editable`);
    if (!editable) return null;
    editable.focus();
    if (savedRange && editable.contains(savedRange.commonAncestorContainer)) {
      const selection = document.getSelection();
      selection.removeAllRanges();
      selection.addRange(savedRange);
    }
    return editable;
  }

  function runCommand(block, command, value) {
    const editable = restoreSelection(block);
    if (!editable) return;
    document.execCommand(command, false, value);
    // Keep the selection as the command left it, now: "selectionchange" comes later, and a
    // second command run before it (bold, then a colour) would act on a stale range.
    const selection = document.getSelection();
    if (selection.rangeCount) savedRange = selection.getRangeAt(0).cloneRange();
    block.html = editable.innerHTML;
    change(() => {}, { redraw: false });
  }

  function textToolbar(block) {
    const bar = el("div", { class: "text-toolbar", role: "toolbar", "aria-label": t.formatting });
    const commands = [["bold", t.bold, "B"], ["italic", t.italic, "I"], ["underline", t.underline, "U"], ["insertUnorderedList", t.bulletList, "•"], ["insertOrderedList", t.numberedList, "1."], ["removeFormat", t.removeFormat, "⌫"]];
    for (const [command, label, icon] of commands) {
      bar.append(el("button", {
        type: "button", class: "tool", "aria-label": label, title: label, "data-command-text": command, text: icon,
        onmousedown: (event) => event.preventDefault(),
        onclick: () => runCommand(block, command),
      }));
    }
    const linkInput = el("input", { type: "url", id: "text-link-url", placeholder: "https://", "aria-label": t.linkUrl });
    bar.append(el("div", { class: "text-link" }, linkInput, el("button", {
      type: "button", class: "secondary", text: t.applyLink, "data-testid": "apply-link",
      onclick: () => {
        const url = linkInput.value.trim();
        if (!/^(https?:\/\/|mailto:|tel:|\{\{)/.test(url)) { say(t.badLink, true); return; }
        runCommand(block, "createLink", url);
      },
    }), el("button", { type: "button", class: "secondary", text: t.removeLink, onclick: () => runCommand(block, "unlink") })));
    const colour = el("input", { type: "color", "aria-label": t.textColour });
    colour.addEventListener("change", () => {
      // A styled span, not <font color> (which the server's sanitiser does not keep).
      document.execCommand("styleWithCSS", false, true);
      runCommand(block, "foreColor", colour.value);
      document.execCommand("styleWithCSS", false, false);
    });
    bar.append(el("label", { class: "text-colour" }, document.createTextNode(t.textColour + " "), colour));
    const tags = el("select", { "aria-label": t.insertMergeTag, "data-testid": "merge-tag-menu" },
      el("option", { value: "", text: t.insertMergeTag }),
      ...config.mergeTags.map((tag) => el("option", { value: tag.tag, text: `${tag.label} — ${tag.tag}` })));
    tags.addEventListener("change", () => {
      if (!tags.value) return;
      runCommand(block, "insertText", tags.value);
      tags.value = "";
    });
    bar.append(tags);
    return bar;
  }

  function imageUpload(block) {
    const input = el("input", { type: "file", id: "prop-image-file", accept: "image/jpeg,image/png,image/gif,image/webp", "data-testid": "image-upload" });
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      if (file.size > config.maxImageBytes) { say(t.imageTooLarge, true); return; }
      const form = new FormData();
      form.append("image", file);
      say(t.uploading);
      const response = await fetch(config.uploadUrl, { method: "POST", headers: { "X-CSRFToken": csrfToken }, body: form, credentials: "same-origin" });
      const answer = await response.json();
      if (!response.ok) { say(answer.message, true); return; }
      change(() => (block.src = answer.url), { focus: "#prop-alt" });
      say(block.alt ? t.imageUploaded : t.imageUploadedAlt);
    });
    return el("div", { class: "prop" }, el("label", { for: "prop-image-file", text: t.uploadImage }), input);
  }

  function socialItems(block) {
    const fieldset = el("fieldset", {}, el("legend", { text: t.socialLinks }));
    block.items.forEach((item, index) => {
      const network = el("select", { "aria-label": `${t.network} ${index + 1}` }, ...config.socialNetworks.map((name) => el("option", { value: name, text: name, selected: item.network === name })));
      network.addEventListener("change", () => change(() => (item.network = network.value)));
      const href = el("input", { type: "url", value: item.href, "aria-label": `${t.fields.href} ${index + 1}` });
      href.addEventListener("change", () => change(() => (item.href = href.value)));
      fieldset.append(el("div", { class: "social-item" }, network, href, el("button", {
        type: "button", class: "tool", "aria-label": `${t.delete} ${index + 1}`, text: "✕",
        onclick: () => change(() => block.items.splice(index, 1)),
      })));
    });
    fieldset.append(el("button", { type: "button", class: "secondary", text: t.addLink, onclick: () => change(() => block.items.push({ network: "instagram", href: "https://" })) }));
    return fieldset;
  }

  function renderStyles() {
    const holder = document.getElementById("editor-styles");
    holder.replaceChildren();
    const specs = [["font_family", "select-font"], ["text_color", "color"], ["link_color", "color"], ["background_color", "color"], ["content_background", "color"], ["width", "number", 480, 800]];
    for (const [name, kind, low, high] of specs) {
      const id = `style-${name}`;
      let input;
      if (kind === "select-font") {
        input = el("select", { id }, ...config.fonts.map((font) => el("option", { value: font.value, text: font.label, selected: state.styles[name] === font.value })));
      } else {
        input = el("input", { id, type: kind === "number" ? "number" : "color", min: low, max: high });
        input.value = state.styles[name];
      }
      input.addEventListener("change", () => change(() => (state.styles[name] = kind === "number" ? Number(input.value) : input.value)));
      holder.append(el("div", { class: "prop" }, el("label", { for: id, text: t.fields[name] || name }), input));
    }
  }

  // Server calls.
  function showErrors(answer) {
    for (const node of canvas.querySelectorAll(".has-error")) node.classList.remove("has-error");
    const paths = Object.keys(answer.fields || {});
    const lines = paths.map((path) => `${describe(path)}: ${answer.fields[path].join(" ")}`);
    say(lines.length ? lines.join(" · ") : answer.message, true);
    const first = paths.map(blockAt).find(Boolean);
    if (first) {
      const node = canvas.querySelector(`[data-block-id="${first.id}"]`);
      if (node) node.classList.add("has-error");
      select("block", first.id);
    }
  }

  function blockAt(path) {
    const match = /^sections\[(\d+)\]\.columns\[(\d+)\]\.blocks\[(\d+)\]/.exec(path);
    if (!match) return null;
    const section = state.sections[Number(match[1])];
    const column = section && section.columns[Number(match[2])];
    return (column && column.blocks[Number(match[3])]) || null;
  }

  function describe(path) {
    const block = blockAt(path);
    const field = path.split(".").pop().replace(/\[\d+\]$/, "");
    if (!block) return path;
    const sectionIndex = Number(/^sections\[(\d+)\]/.exec(path)[1]);
    const name = t.fields[field] ? ` (${t.fields[field]})` : "";
    return `${t.section} ${sectionIndex + 1}, ${config.blockLabels[block.type]}${name}`;
  }

  async function save() {
    const body = { design: state };
    if (config.kind === "template") body.name = document.getElementById("editor-template-name").value;
    say(t.saving);
    const response = await request(config.saveUrl, body);
    const answer = await response.json();
    if (!response.ok) {
      if (answer.fields && answer.fields.name) document.getElementById("editor-template-name").focus();
      showErrors(answer);
      return false;
    }
    dirty = false;
    if (answer.saveUrl) config.saveUrl = answer.saveUrl;
    // The address no longer says where the editing started (?start=…): reloading opens
    // what was just saved.
    const editUrl = answer.editUrl || config.editUrl;
    if (editUrl) window.history.replaceState(null, "", editUrl);
    say([t.saved, ...(answer.warnings || [])].join(" "));
    return true;
  }

  async function preview() {
    const contact = document.getElementById("editor-preview-contact").value;
    const response = await request(config.previewUrl, { design: state, contact: contact ? Number(contact) : null });
    if (!response.ok) {
      showErrors(await response.json());
      return;
    }
    let html = await response.text();
    if (document.getElementById("editor-preview-hide-images").checked) {
      html = html.replace(/<\/head>/i, "<style>img{visibility:hidden !important}</style></head>");
    }
    for (const id of ["editor-preview-desktop", "editor-preview-mobile"]) {
      document.getElementById(id).srcdoc = html; // sandbox="": no script, opaque origin
    }
    say(t.previewUpdated);
  }

  async function sendTest() {
    const recipients = document.getElementById("editor-test-recipients").value.split(",").map((a) => a.trim()).filter(Boolean);
    if (!(await save())) return;
    const response = await request(config.testUrl, { recipients });
    const answer = await response.json();
    if (!response.ok) { showErrors(answer); return; }
    say(t.testSent.replace("%s", answer.sent));
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-command]");
    if (!button) return;
    const command = button.dataset.command;
    if (command === "undo") travel(-1);
    if (command === "redo") travel(1);
    if (command === "save") save();
    if (command === "preview") preview();
    if (command === "send-test") sendTest();
  });

  document.addEventListener("keydown", (event) => {
    const inText = event.target.closest && event.target.closest(".text-editable, input, textarea");
    if (!(event.ctrlKey || event.metaKey) || inText) {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") { event.preventDefault(); save(); }
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) { event.preventDefault(); travel(-1); }
    if (key === "y" || (key === "z" && event.shiftKey)) { event.preventDefault(); travel(1); }
    if (key === "s") { event.preventDefault(); save(); }
  });

  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });

  renderPalette();
  render();
  updateHistoryButtons();
})();
