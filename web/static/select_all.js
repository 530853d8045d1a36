// "Select all": a checkbox with data-select-all="NAME" ticks or clears every checkbox NAME of its form.
document.addEventListener("DOMContentLoaded", () => {
  for (const master of document.querySelectorAll("input[data-select-all]")) {
    const boxes = () => master.form.querySelectorAll(
      `input[type=checkbox][name="${master.dataset.selectAll}"]`);
    master.addEventListener("change", () => {
      for (const box of boxes()) box.checked = master.checked;
    });
    master.form.addEventListener("change", (event) => {
      if (event.target === master) return;
      const all = [...boxes()];
      master.checked = all.length > 0 && all.every((box) => box.checked);
      master.indeterminate = !master.checked && all.some((box) => box.checked);
    });
  }
});
