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

  function showCurrent() {
    const agent = agents.get(employee.value);
    if (agent === undefined) { return; }  // not loaded by this script: keep the server's text
    current.textContent = agent
      ? form.dataset.labelCurrent.replace("{extension}", agent.extension) + ", " + routingText(agent)
      : form.dataset.labelNoAgent;
    if (agent && kind() === "change") {  // start from today's routing, so only edits count
      const type = agent.routing ? agent.routing.type : "app_web";
      form.querySelector(`input[name="routing_type"][value="${type}"]`).checked = true;
      $("priority_number").value = (agent.routing && agent.routing.priority_number) || "";
      $("backup_number").value = (agent.routing && agent.routing.backup_number) || "";
      showFields();
    }
  }

  function kind() {
    const checked = form.querySelector('input[name="kind"]:checked');
    return checked ? checked.value : "new";
  }

  function showFields() {
    $("extension-routing").hidden = kind() === "revoke";
    $("reset-password").hidden = kind() !== "change";
    const routing = form.querySelector('input[name="routing_type"]:checked');
    $("phone-numbers").hidden = !routing || routing.value !== "phone";
  }

  function filterOptions(search, select) {
    search.addEventListener("input", () => {
      const words = search.value.trim().toLocaleLowerCase("vi");
      for (const option of select.options) {
        option.hidden = option.value !== "" && !option.text.toLocaleLowerCase("vi").includes(words);
      }
    });
  }

  branch.addEventListener("change", async () => {
    fill(department, form.dataset.labelChooseDepartment, []);
    fill(employee, form.dataset.labelChooseEmployee, []);
    if (!branch.value) { return; }
    const departments = await getJson(url(form.dataset.departmentsUrl, branch.value));
    fill(department, form.dataset.labelChooseDepartment, departments.map((d) => [d.id, d.name]));
  });

  department.addEventListener("change", async () => {
    fill(employee, form.dataset.labelChooseEmployee, []);
    if (!department.value) { return; }
    const employees = await getJson(url(form.dataset.employeesUrl, department.value));
    agents.clear();
    for (const person of employees) { agents.set(String(person.id), person.agent); }
    fill(employee, form.dataset.labelChooseEmployee, employees.map((person) => [
      person.id, person.full_name + (person.agent ? " — " + person.agent.extension : "")]));
  });

  employee.addEventListener("change", showCurrent);
  for (const radio of form.querySelectorAll('input[name="kind"], input[name="routing_type"]')) {
    radio.addEventListener("change", () => { showFields(); showCurrent(); });
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
  filterOptions($("notify-search"), $("notify_user_ids"));

  // A double click sends the form once (the idempotency key also makes a resend harmless).
  let sent = false;
  form.addEventListener("submit", (event) => {
    if (sent) { event.preventDefault(); }
    sent = true;
  });
  showFields();
})();
