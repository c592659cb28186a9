// Segment builder: edits the rule tree kept as JSON in the form's hidden "rules" field, and
// shows a live count of matching contacts (the server validates and counts; see segment_preview).
(function () {
  "use strict";

  const root = document.getElementById("segment-builder");
  if (!root) return;
  const rulesField = document.getElementById("id_rules");
  const countOutput = document.getElementById("segment-count");
  const errorsBox = document.getElementById("rule-errors");
  const catalog = JSON.parse(document.getElementById("segment-catalog").textContent);
  const labels = root.dataset;
  const fieldsByName = Object.fromEntries(catalog.fields.map((f) => [f.name, f]));
  const valueless = new Set(catalog.valueless);
  const dayCounts = new Set(catalog.day_counts);
  const yearCounts = new Set(catalog.year_counts || []);
  const listOps = new Set(["in", "not_in", "any_of", "all_of", "none_of"]);
  const csrfToken = document.querySelector("#segment-form [name=csrfmiddlewaretoken]").value;

  let rules;
  try {
    rules = JSON.parse(rulesField.value || "{}");
  } catch (error) {
    rules = {};
  }
  if (!rules.all && !rules.any) rules = { all: [] };

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    });
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  function select(options, selected, attributes) {
    const node = element("select", attributes);
    options.forEach(([value, label]) => {
      const option = element("option", { value: String(value), text: label });
      if (Array.isArray(selected) ? selected.map(String).includes(String(value)) : String(value) === String(selected)) {
        option.selected = true;
      }
      node.appendChild(option);
    });
    return node;
  }

  function operatorsFor(field) {
    return field ? catalog.operators[field.type] || [] : [];
  }

  function defaultValue(field, op) {
    if (field.editor === "activity") return { campaign: null, days: null };
    if (valueless.has(op)) return undefined;
    if (dayCounts.has(op)) return 30;
    if (yearCounts.has(op)) return 18;
    if (op === "between") return ["", ""];
    if (op === "in_list" || op === "not_in_list") return catalog.lists.length ? catalog.lists[0][0] : null;
    if (listOps.has(op)) return [];
    return "";
  }

  function newCondition() {
    const field = catalog.fields[0];
    const op = operatorsFor(field)[0];
    return { field: field.name, op: op, value: defaultValue(field, op) };
  }

  function inputType(field) {
    if (["date", "datetime"].includes(field.type)) return "date";
    if (["number", "decimal"].includes(field.type)) return "number";
    return "text";
  }

  // Email activity: a campaign (or any) and an optional number of days.
  function activityEditor(condition, field, path) {
    const value = condition.value && typeof condition.value === "object" ? condition.value : {};
    condition.value = { campaign: value.campaign ?? null, days: value.days ?? null };
    const campaigns = [["", field.any_campaign_label], ...field.campaigns];
    const campaignSelect = select(campaigns, condition.value.campaign ?? "", {
      "aria-label": field.campaign_label, name: `${path}-value`,
      onchange: (event) => {
        condition.value.campaign = event.target.value ? parseInt(event.target.value, 10) : null;
        changed(false);
      },
    });
    const days = element("input", {
      type: "number", min: "1", step: "1", value: condition.value.days ?? "", placeholder: field.any_time_label,
      "aria-label": field.days_label, title: field.days_label, name: `${path}-days`,
      oninput: (event) => {
        condition.value.days = event.target.value === "" ? null : parseInt(event.target.value, 10);
        changed(false);
      },
    });
    // Styled through the CSSOM (not a style attribute), which a strict CSP allows.
    Object.assign(campaignSelect.style, { flex: "1 1 10rem", marginBottom: "0" });
    Object.assign(days.style, { flex: "0 0 6rem", marginBottom: "0" });
    const words = (text) => {
      const node = element("span", { text: text });
      node.style.whiteSpace = "nowrap";
      return node;
    };
    const editor = element("span", { class: "between activity" }, [
      campaignSelect, words(field.within_label), days, words(field.days_unit),
    ]);
    editor.style.flex = "2 1 24rem";
    return editor;
  }

  function valueEditor(condition, field, path) {
    const op = condition.op;
    const name = `${path}-value`;
    if (field.editor === "activity") return activityEditor(condition, field, path);
    if (valueless.has(op)) return element("span");
    if (dayCounts.has(op) || yearCounts.has(op)) {
      // A number of days or years, relative to today: the segment never goes stale.
      const unit = dayCounts.has(op) ? catalog.units.days : catalog.units.years;
      const input = element("input", {
        type: "number", min: "0", step: "1", value: condition.value ?? defaultValue(field, op),
        "aria-label": `${labels.labelValue} (${unit})`, name: name,
        oninput: (event) => { condition.value = parseInt(event.target.value || "0", 10); changed(false); },
      });
      input.style.flex = "0 0 7rem";
      const words = element("span", { text: unit });
      words.style.whiteSpace = "nowrap";
      return element("span", { class: "between" }, [input, words]);
    }
    if (op === "in_list" || op === "not_in_list") {
      return select(catalog.lists, condition.value, {
        "aria-label": labels.labelValue, name: name,
        onchange: (event) => { condition.value = parseInt(event.target.value, 10); changed(false); },
      });
    }
    if (listOps.has(op) && field.choices && field.choices.length) {
      return select(field.choices, condition.value || [], {
        multiple: "", "aria-label": labels.labelValue, name: name,
        onchange: (event) => {
          condition.value = Array.from(event.target.selectedOptions).map((o) => o.value);
          changed(false);
        },
      });
    }
    if (op === "between") {
      const values = Array.isArray(condition.value) ? condition.value : ["", ""];
      condition.value = values;
      const bound = (index) => element("input", {
        type: inputType(field), value: values[index] ?? "", "aria-label": labels.labelValue, name: `${name}-${index}`,
        oninput: (event) => { values[index] = event.target.value; changed(false); },
      });
      return element("span", { class: "between" }, [bound(0), element("span", { text: ` ${labels.labelAnd} ` }), bound(1)]);
    }
    if (listOps.has(op)) {
      // Free values, comma-separated (e.g. "Paris, Lyon").
      return element("input", {
        type: "text", value: (condition.value || []).join(", "), "aria-label": labels.labelValue, name: name,
        oninput: (event) => {
          condition.value = event.target.value.split(",").map((v) => v.trim()).filter(Boolean);
          changed(false);
        },
      });
    }
    return element("input", {
      type: inputType(field), value: condition.value ?? "", "aria-label": labels.labelValue, name: name,
      oninput: (event) => { condition.value = event.target.value; changed(false); },
    });
  }

  function renderCondition(condition, onRemove, path) {
    const field = fieldsByName[condition.field] || catalog.fields[0];
    const fieldSelect = select(catalog.fields.map((f) => [f.name, f.label]), condition.field, {
      "aria-label": labels.labelField, name: `${path}-field`,
      onchange: (event) => {
        const next = fieldsByName[event.target.value];
        condition.field = next.name;
        if (!operatorsFor(next).includes(condition.op)) condition.op = operatorsFor(next)[0];
        condition.value = defaultValue(next, condition.op);
        changed(true);
      },
    });
    const opSelect = select(operatorsFor(field).map((op) => [op, catalog.operator_labels[op] || op]), condition.op, {
      "aria-label": labels.labelOperator, name: `${path}-op`,
      onchange: (event) => {
        condition.op = event.target.value;
        // An activity condition keeps its campaign and days from one operator to the next.
        if (field.editor !== "activity") condition.value = defaultValue(field, condition.op);
        changed(true);
      },
    });
    const remove = element("button", { type: "button", class: "secondary outline", text: labels.labelRemove, onclick: onRemove });
    return element("div", { class: "rule-condition", "data-path": path }, [fieldSelect, opSelect, valueEditor(condition, field, path), remove]);
  }

  function renderGroup(group, onRemove, path) {
    const kind = group.all ? "all" : "any";
    const children = group[kind];
    const kindSelect = select([["all", labels.labelAll], ["any", labels.labelAny]], kind, {
      "aria-label": `${labels.labelAll} / ${labels.labelAny}`, name: `${path}-kind`,
      onchange: (event) => {
        const items = group[kind];
        delete group[kind];
        group[event.target.value] = items;
        changed(true);
      },
    });
    const list = element("div", { class: "rule-children" });
    children.forEach((child, index) => {
      const childPath = `${path ? path + "." : ""}${kind}[${index}]`;
      const removeChild = () => { children.splice(index, 1); changed(true); };
      list.appendChild(child.all || child.any ? renderGroup(child, removeChild, childPath) : renderCondition(child, removeChild, childPath));
    });
    const actions = element("div", { class: "rule-actions" }, [
      element("button", { type: "button", class: "secondary", text: labels.labelAddCondition, onclick: () => { children.push(newCondition()); changed(true); } }),
      element("button", { type: "button", class: "secondary outline", text: labels.labelAddGroup, onclick: () => { children.push({ any: [newCondition()] }); changed(true); } }),
    ]);
    if (onRemove) actions.appendChild(element("button", { type: "button", class: "contrast outline", text: labels.labelRemove, onclick: onRemove }));
    return element("div", { class: "rule-group", "data-path": path || "rules" }, [kindSelect, list, actions]);
  }

  let timer = null;
  let sequence = 0;

  function refreshCount() {
    const mine = ++sequence;
    fetch(root.dataset.previewUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify({ rules: rules }),
      credentials: "same-origin",
    })
      .then((response) => response.json())
      .then((body) => {
        if (mine !== sequence) return; // an older answer arriving late
        errorsBox.replaceChildren();
        if (body.errors) {
          countOutput.textContent = "—";
          // The server says where each error is in words ("Condition 1 (Ville) : …").
          (body.messages || []).forEach(({ path, text }) => {
            errorsBox.appendChild(element("p", { class: "field-error", "data-path": path, text: text }));
          });
        } else {
          countOutput.textContent = body.count.toLocaleString(document.documentElement.lang);
        }
      });
  }

  function changed(redraw) {
    rulesField.value = JSON.stringify(rules);
    if (redraw) render();
    clearTimeout(timer);
    timer = setTimeout(refreshCount, 250);
  }

  function render() {
    root.replaceChildren(renderGroup(rules, null, ""));
  }

  render();
  changed(false);
})();
