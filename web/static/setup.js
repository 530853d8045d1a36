// The "Thiết lập agent" form: cascading pickers, search boxes, fields shown by choice.
// Progressive: without this script the form still works (the server fills the pickers).
(function () {
  "use strict";
  const form = document.getElementById("setup-form");
  if (!form) { return; }
  const $ = (id) => document.getElementById(id);
  const branch = $("branch_id"), department = $("department_id"), employee = $("employee_id");
  const extension = $("extension"), current = $("current-agent");
  const agents = new Map();  // employee id -> their active agent (or null)

  function url(template, id) { return template.replace(/\/0(\/|$)/, "/" + id + "$1"); }

  function fill(select, placeholder, items) {
    select.replaceChildren(new Option(placeholder, ""));
    for (const [value, label] of items) { select.add(new Option(label, value)); }
  }

  async function getJson(address) {
    const response = await fetch(address, { credentials: "same-origin",
                                            headers: { "Accept": "application/json" } });
    if (!response.ok) { throw new Error(response.status + " " + address); }
    return response.json();
  }

  function routingText(agent) {
    if (agent.routing && agent.routing.type === "phone") {
      return form.dataset.labelPhone.replace("{priority}", agent.routing.priority_number || "-")
        .replace("{backup}", agent.routing.backup_number || "-");
    }
    return form.dataset.labelAppWeb;
  }

  // The chosen kind's radio (the first kind if none is): its data-* attributes say what the
  // kind asks for (needs-agent, routes, picks-extension, resets-password).
  function kindRadio() {
    return form.querySelector('input[name="kind"]:checked') ||
      form.querySelector('input[name="kind"]');
  }
  function kind() { return kindRadio().value; }
  function kindDoes(flag) { return kindRadio().hasAttribute("data-" + flag); }
  // A blank extension keeps the current one (rather than having a free one picked).
  function keepsExtension() { return kindDoes("routes") && !kindDoes("picks-extension"); }

  function showCurrent() {
    const agent = agents.get(employee.value);
    if (agent === undefined) {  // nobody chosen, or not loaded by this script
      if (!employee.value) { current.textContent = ""; }
      return;
    }
    current.textContent = agent
      ? form.dataset.labelCurrent.replace("{extension}", agent.extension) + ", " + routingText(agent)
      : form.dataset.labelNoAgent;
  }

  // Start a change from today's routing, so only edits count. Only when the employee or the
  // kind is chosen: a routing click or a typed number is the requester's own choice.
  function startFromCurrentRouting() {
    const agent = agents.get(employee.value);
    if (!agent || !kindDoes("needs-agent") || !kindDoes("routes")) { return; }
    const type = agent.routing ? agent.routing.type : "app_web";
    form.querySelector(`input[name="routing_type"][value="${type}"]`).checked = true;
    $("priority_number").value = (agent.routing && agent.routing.priority_number) || "";
    $("backup_number").value = (agent.routing && agent.routing.backup_number) || "";
    showFields();
  }

  function showFields() {
    $("extension-routing").hidden = !kindDoes("routes");
    $("reset-password").hidden = !kindDoes("resets-password");
    $("extension-empty-new").hidden = keepsExtension();
    $("extension-empty-change").hidden = !keepsExtension();
    const routing = form.querySelector('input[name="routing_type"]:checked');
    $("phone-numbers").hidden = !routing || routing.value !== "phone";
  }

  // Employees a ticket of this kind would refuse cannot be picked (their label says why).
  // The one the server showed chosen stays chosen, next to the server's message.
  function markPickable(keepChosen) {
    for (const option of employee.options) {
      if (option.value === "") { continue; }
      const refused = option.dataset.openTicket !== undefined ||
        kindDoes("needs-agent") !== (option.dataset.extension !== undefined);
      option.disabled = refused && !(keepChosen && option.selected);
    }
    if (employee.selectedOptions.length && employee.selectedOptions[0].disabled) {
      employee.value = "";
      showCurrent();
      remember();
    }
  }

  // The messages of the last submission are about another choice once the kind changed.
  function clearErrors() {
    for (const input of form.querySelectorAll(".is-invalid")) {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const message of form.querySelectorAll(".invalid-feedback")) { message.hidden = true; }
  }

  // Keep the choices in the address, so Back (or a reload) opens the form as it was left.
  function remember() {
    const address = new URL(window.location.href);
    for (const [name, value] of [["branch_id", branch.value], ["department_id", department.value],
                                 ["employee_id", employee.value], ["kind", kind()]]) {
      if (value) { address.searchParams.set(name, value); } else { address.searchParams.delete(name); }
    }
    window.history.replaceState(window.history.state, "", address);
  }

  function employeeLabel(person) {
    let label = person.full_name;
    if (person.agent) {
      label += " " + form.dataset.labelHasAgent.replace("{extension}", person.agent.extension);
    }
    if (person.open_ticket_id) {
      label += " " + form.dataset.labelOpenTicket.replace("{id}", person.open_ticket_id);
    }
    return label;
  }

  // Offer the branch's departments, keeping the one chosen if it is still offered.
  async function loadDepartments() {
    const asked = branch.value;
    const departments = await getJson(url(form.dataset.departmentsUrl, asked));
    if (branch.value !== asked) { return; }  // chosen again meanwhile
    const keep = department.value;
    fill(department, form.dataset.labelChooseDepartment, departments.map((d) => [d.id, d.name]));
    department.value = keep;
    if (department.value !== keep) { department.value = ""; }
  }

  // Learn the department's employees (their agents feed the form); offer them again unless
  // the server already did, keeping the one chosen.
  async function loadEmployees(refill, keepChosen) {
    const asked = department.value;
    const employees = await getJson(url(form.dataset.employeesUrl, asked));
    if (department.value !== asked) { return; }  // chosen again meanwhile
    agents.clear();
    for (const person of employees) { agents.set(String(person.id), person.agent); }
    if (!refill) { return; }
    const keep = employee.value;
    employee.replaceChildren(new Option(form.dataset.labelChooseEmployee, ""));
    for (const person of employees) {
      const option = new Option(employeeLabel(person), person.id);
      if (person.agent) { option.dataset.extension = person.agent.extension; }
      if (person.open_ticket_id) { option.dataset.openTicket = person.open_ticket_id; }
      employee.add(option);
    }
    employee.value = keep;
    if (employee.value !== keep) { employee.value = ""; }
    markPickable(keepChosen);
  }

  branch.addEventListener("change", async () => {
    fill(department, form.dataset.labelChooseDepartment, []);
    fill(employee, form.dataset.labelChooseEmployee, []);
    showCurrent();
    remember();
    if (branch.value) { await loadDepartments(); }
  });

  department.addEventListener("change", async () => {
    fill(employee, form.dataset.labelChooseEmployee, []);
    showCurrent();
    remember();
    if (department.value) { await loadEmployees(true, false); }
  });

  employee.addEventListener("change", () => {
    clearErrors();
    showCurrent();
    startFromCurrentRouting();
    remember();
  });
  for (const radio of form.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener("change", () => {
      clearErrors();
      showFields();
      markPickable(false);
      startFromCurrentRouting();
      remember();
    });
  }
  for (const radio of form.querySelectorAll('input[name="routing_type"]')) {
    radio.addEventListener("change", showFields);
  }

  $("suggest-extension").addEventListener("click", async () => {
    const suggestion = await getJson(form.dataset.suggestUrl);
    if (suggestion.extension) { extension.value = suggestion.extension; extension.focus(); }
  });

  // Say at once what is wrong with the extension typed (policy, or who already has it).
  let checking = 0;
  extension.addEventListener("input", () => {
    window.clearTimeout(checking);
    checking = window.setTimeout(checkExtension, 300);
  });

  async function checkExtension() {
    const value = extension.value.trim();
    const live = $("extension-live");
    live.hidden = false;
    const agent = agents.get(employee.value);
    const own = agent ? agent.extension : form.dataset.currentExtension;
    if (!value || value === own) {
      live.textContent = "";
      extension.classList.remove("is-invalid");
      return;
    }
    const address = form.dataset.checkUrl + "?extension=" + encodeURIComponent(value);
    const answer = await getJson(address);
    if (extension.value.trim() !== value) { return; }  // typed on meanwhile
    live.textContent = answer.problems.join(" ");
    extension.classList.toggle("is-invalid", answer.problems.length > 0);
  }

  filterOptions($("employee-search"), employee);
  filterPeople($("notify-search"), $("notify-list"));
  showChosen($("notify-list"), $("notify-chosen"));

  // As workflow/names.fold: without tone marks or letter modifiers, đ as d, lower case,
  // single spaces, so that "nguyen" finds "Nguyễn" as the agent list does.
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
      .toLocaleLowerCase("vi").replace(/\s+/g, " ").trim();
  }

  function filterOptions(search, select) {
    search.addEventListener("input", () => {
      const words = fold(search.value);
      for (const option of select.options) {
        option.hidden = option.value !== "" && !fold(option.text).includes(words);
      }
    });
  }

  // The people to notify are checkboxes; the search hides those whose name does not match.
  function filterPeople(search, list) {
    search.addEventListener("input", () => {
      const words = fold(search.value);
      for (const row of list.querySelectorAll(".form-check")) {
        row.hidden = !fold(row.textContent).includes(words);
      }
    });
  }

  // The chosen people as chips above the list, each with a button that takes them off.
  function showChosen(list, chosen) {
    const draw = () => {
      chosen.replaceChildren();
      const checked = list.querySelectorAll("input:checked");
      if (checked.length === 0) {
        chosen.append(Object.assign(document.createElement("span"),
          { className: "text-body-secondary small", textContent: chosen.dataset.none }));
      }
      for (const box of checked) {
        const name = list.querySelector(`label[for="${box.id}"]`).textContent.split(" <")[0].trim();
        const chip = Object.assign(document.createElement("span"),
          { className: "badge rounded-pill text-bg-primary d-inline-flex align-items-center gap-1" });
        const remove = Object.assign(document.createElement("button"), {
          type: "button", className: "btn-close btn-close-white btn-sm",
        });
        remove.setAttribute("aria-label", chosen.dataset.remove.replace("{name}", name));
        remove.addEventListener("click", () => { box.checked = false; draw(); });
        chip.append(name, remove);
        chosen.append(chip);
      }
    };
    list.addEventListener("change", draw);
    draw();
  }

  // Enter in a one-line box must not file the ticket: only the two buttons send the form.
  form.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === "Enter" && target instanceof HTMLInputElement && target.type !== "submit") {
      event.preventDefault();
    }
  });

  // A double click sends the form once (the idempotency key also makes a resend harmless).
  let sent = false;
  form.addEventListener("submit", (event) => {
    if (sent) { event.preventDefault(); }
    sent = true;
  });

  // Opened again (Back, reload): the browser may keep a branch or kind whose lists it lost.
  async function restore() {
    showFields();
    markPickable(true);
    if (branch.value && department.options.length <= 1) { await loadDepartments(); }
    if (department.value) { await loadEmployees(employee.options.length <= 1, true); }
  }
  restore();
})();
