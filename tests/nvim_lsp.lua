-- Driven by tests/nvim_test.py: Neovim's built-in LSP client (0.7: vim.lsp.start_client) runs
-- `spipfix server` on one file, waits for its diagnostics, picks a code action through
-- vim.ui.select as a user would, waits for the edit, writes the buffer and quits. What happened
-- goes to $NVIM_TEST_LOG, one line per event.
local logf = assert(io.open(os.getenv("NVIM_TEST_LOG"), "w"))
local function log(fmt, ...)
  logf:write(string.format(fmt, ...) .. "\n")
  logf:flush()
end
local want = os.getenv("NVIM_TEST_ACTION") -- a Lua pattern of the title to choose
local only = os.getenv("NVIM_TEST_ONLY") -- a code action kind, or empty

vim.lsp.set_log_level("debug")
vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("NVIM_TEST_FILE")))
local bufnr = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "spipfix",
  cmd = { os.getenv("SPIPFIX"), "server" },
  root_dir = os.getenv("NVIM_TEST_ROOT"),
})
log("client started: %s", tostring(client_id))
vim.lsp.buf_attach_client(bufnr, client_id)

local got = vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 20)
local diags = vim.diagnostic.get(bufnr)
log("diagnostics: %d", #diags)
for _, d in ipairs(diags) do
  log("  %d:%d %s %s: %s", d.lnum + 1, d.col + 1, d.source or "?", tostring(d.code), d.message)
end
if not got then
  log("no diagnostics came")
  vim.cmd("qa!")
end

vim.api.nvim_win_set_cursor(0, { diags[1].lnum + 1, diags[1].col })
local chosen
vim.ui.select = function(items, opts, on_choice)
  for _, item in ipairs(items) do
    log("  action: [%s] %s", item[2].kind or "?", opts.format_item(item))
  end
  for i, item in ipairs(items) do
    if item[2].title:match(want) then
      chosen = item[2].title
      on_choice(item, i)
      return
    end
  end
  on_choice(nil)
end
local tick = vim.api.nvim_buf_get_changedtick(bufnr)
if only and only ~= "" then
  vim.lsp.buf.code_action({ only = { only } })
else
  vim.lsp.buf.code_action()
end
local changed = vim.wait(30000, function() return vim.api.nvim_buf_get_changedtick(bufnr) ~= tick end, 20)
log("applied: %s (buffer changed: %s)", chosen or "nothing", tostring(changed))
vim.cmd("write")
local cleared = vim.wait(30000, function()
  local now = vim.diagnostic.get(bufnr)
  return #now < #diags
end, 20)
log("diagnostics after the edit: %d", #vim.diagnostic.get(bufnr))
vim.lsp.stop_client(client_id)
vim.wait(10000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 20)
log("client stopped: %s", tostring(vim.lsp.get_client_by_id(client_id) == nil))
logf:close()
vim.cmd("qa!")
