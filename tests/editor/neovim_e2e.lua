-- objgraph-doctest's language server in a real Neovim (0.11 or later), headless. Run by
-- tests/editor_neovim.rs as
--
--   nvim --headless --clean -u NONE -l tests/editor/neovim_e2e.lua SERVER PYTHON PAGE RESULT
--
-- It configures the server the way a user would (vim.lsp.config + vim.lsp.enable, with
-- SERVER as the binary and PYTHON as the interpreter), opens PAGE, waits for the failing
-- example's diagnostic, hovers the example and a name in an example (its value, read from the
-- page's live interpreter), applies the "Accept actual output" quick fix, waits for the
-- diagnostics to clear, stops the server, and writes what it saw to RESULT as JSON. The Rust test asserts on that file. Every wait is bounded: a step that times out
-- records an error and the script still stops the server and writes the result.

local server, python, page, result_path = arg[1], arg[2], arg[3], arg[4]
assert(server and python and page and result_path, 'usage: SERVER PYTHON PAGE RESULT')

local NAME = 'objgraph_doctest'
local result = { nvim = tostring(vim.version()), steps = {} }

--- Waits up to `ms` for `condition`, processing events meanwhile; errors on timeout or when
--- the server has exited.
local function wait_for(what, ms, condition)
  local met = vim.wait(ms, function()
    return result.server_exit ~= nil or condition()
  end, 10)
  if result.server_exit ~= nil then
    local exit = vim.inspect(result.server_exit, { newline = ' ', indent = '' })
    error(('the server exited (%s) while waiting for %s'):format(exit, what), 0)
  elseif not met then
    error(('timed out after %d ms waiting for %s'):format(ms, what), 0)
  end
end

local function now_ms()
  return vim.uv.hrtime() / 1e6
end

--- Runs a step, recording its duration; the first failing step ends the session.
local function step(name, body)
  local started = now_ms()
  body()
  table.insert(result.steps, { name = name, ms = math.floor(now_ms() - started) })
end

local function our_diagnostics(buf, client)
  return vim.diagnostic.get(buf, { namespace = vim.lsp.diagnostic.get_namespace(client.id) })
end

local function request(client, buf, method, params)
  local response, err = client:request_sync(method, params, 10000, buf)
  if not response then
    error(('%s: %s'):format(method, tostring(err)), 0)
  end
  if response.err then
    error(('%s: %s'):format(method, vim.inspect(response.err)), 0)
  end
  return response.result
end

local function session()
  local root = vim.fs.dirname(page)
  local settings = { runOn = 'change', execute = true, python = python, debounceMs = 0 }
  vim.lsp.config(NAME, {
    cmd = { server, 'lsp' },
    cmd_cwd = root,
    filetypes = { 'text' },
    root_dir = root,
    init_options = settings,
    settings = { objgraphDoctest = settings },
    on_exit = function(code, signal)
      result.server_exit = { code = code, signal = signal }
    end,
  })
  vim.lsp.enable(NAME)

  local buf, client, failure
  step('open', function()
    vim.cmd.edit(vim.fn.fnameescape(page))
    buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].filetype = 'text'
    wait_for('the client to attach', 20000, function()
      client = vim.lsp.get_clients({ bufnr = buf, name = NAME })[1]
      return client ~= nil and client.initialized
    end)
  end)

  step('diagnostic', function()
    wait_for('a diagnostic', 60000, function()
      return #our_diagnostics(buf, client) > 0
    end)
    result.diagnostics = {}
    for _, d in ipairs(our_diagnostics(buf, client)) do
      table.insert(result.diagnostics, {
        line = d.lnum,
        col = d.col,
        code = d.code,
        message = d.message,
      })
    end
    failure = our_diagnostics(buf, client)[1]
  end)

  -- The markdown of the hover at `position`.
  local function hover_text(position)
    local hover = request(client, buf, 'textDocument/hover', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      position = position,
    })
    local contents = hover and hover.contents or {}
    return type(contents) == 'table' and contents.value or contents
  end

  -- The code actions for `range` (and `diagnostics`), their titles listed in `titles`, and
  -- the one titled `wanted`.
  local function action_titled(range, diagnostics, titles, wanted)
    local actions = request(client, buf, 'textDocument/codeAction', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      range = range,
      context = { diagnostics = diagnostics },
    }) or {}
    local found
    for _, action in ipairs(actions) do
      table.insert(titles, action.title)
      if action.title == wanted then
        found = action
      end
    end
    return found
  end

  -- `x` in `>>> x = 6` (line 2, 0-based).
  local function x_position()
    local line = vim.api.nvim_buf_get_lines(buf, 2, 3, true)[1]
    return { line = 2, character = line:find('x = 6', 1, true) - 1 }
  end

  step('hover', function()
    result.hover = hover_text({ line = failure.lnum, character = failure.col })
  end)

  -- The heap hover: on `x` in `>>> x = 6`, its value after that example.
  step('name hover', function()
    result.name_hover = hover_text(x_position())
  end)

  -- "Show references of x" on `x` in `>>> x = 6`: Neovim executes the action's command
  -- (workspace/executeCommand, as it does for any command action); the server draws
  -- objgraph's graph into the artifacts folder, and the next hover on `x` shows it.
  step('show references', function()
    local position = x_position()
    result.name_actions = {}
    local show = action_titled(
      { start = position, ['end'] = position },
      {},
      result.name_actions,
      'Show references of x'
    )
    if not (show and show.command) then
      error('no "Show references of x" action with a command', 0)
    end
    local answer = request(client, buf, 'workspace/executeCommand', {
      command = show.command.command,
      arguments = show.command.arguments,
    })
    result.drawn = answer and answer.image
    result.drawn_hover = hover_text(position)
  end)

  step('quick fix', function()
    local lsp_diagnostic = failure.user_data.lsp
    result.actions = {}
    local accept = action_titled(
      lsp_diagnostic.range,
      { lsp_diagnostic },
      result.actions,
      'Accept actual output'
    )
    if not (accept and accept.edit) then
      error('no "Accept actual output" action with an edit', 0)
    end
    vim.lsp.util.apply_workspace_edit(accept.edit, client.offset_encoding)
    result.fixed_line = vim.api.nvim_buf_get_lines(buf, failure.lnum, failure.lnum + 1, true)[1]
  end)

  step('cleared', function()
    wait_for('the diagnostics to clear', 30000, function()
      return #our_diagnostics(buf, client) == 0
    end)
    result.cleared = true
  end)
end

local ok, err = xpcall(session, function(message)
  return debug.traceback(tostring(message), 2)
end)
if not ok then
  result.error = err
end

-- Stop the server politely (shutdown + exit) and wait for it to go.
local stopping = now_ms()
for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
  client:stop()
end
local stopped = vim.wait(10000, function()
  return result.server_exit ~= nil
end, 10)
if not stopped then
  for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
    client:stop(true)
  end
  vim.wait(5000, function()
    return result.server_exit ~= nil
  end, 10)
end
result.stopped = stopped
result.stop_ms = math.floor(now_ms() - stopping)

local file = assert(io.open(result_path, 'w'))
file:write(vim.json.encode(result))
file:close()
os.exit(ok and 0 or 1)
