-- objgraph-doctest's language server for Neovim 0.11+: runs the >>> examples of .txt, .rst
-- and .md pages as you edit them.
--
-- Copy this file to a `lsp/` directory on your 'runtimepath' (for example
-- ~/.config/nvim/lsp/objgraph_doctest.lua), then in your init.lua:
--
--   vim.lsp.enable('objgraph_doctest')
--
-- Change anything with vim.lsp.config('objgraph_doctest', { ... }), which is merged over this
-- table (see editors/neovim/README.md).

-- Sent as initializationOptions, and as the `objgraphDoctest` section of workspace/configuration.
local settings = {
  runOn = 'change', -- 'change' (once typing pauses), 'save' or 'manual' (code lenses only)
  execute = true, -- false: parse and report errors only; nothing is executed
  debounceMs = 300, -- quiet after an edit before a run starts, with runOn = 'change'
  -- python = '/path/to/python', -- default: objgraph-doctest.toml, $VIRTUAL_ENV, ./.venv, python3
}

return {
  cmd = { 'objgraph-doctest', 'lsp' },
  filetypes = { 'rst', 'markdown', 'text' },
  root_markers = { 'pyproject.toml', 'objgraph-doctest.toml', '.git' },
  init_options = settings,
  settings = { objgraphDoctest = settings },
  -- Neovim shows code lenses ("N passed, M failed", "Run page", "Run from here") only when
  -- asked to: keep them fresh in the buffers this server attaches to.
  on_attach = function(_, bufnr)
    if vim.lsp.codelens.enable then -- Neovim 0.12
      vim.lsp.codelens.enable(true, { bufnr = bufnr })
      return
    end
    local function refresh()
      vim.lsp.codelens.refresh({ bufnr = bufnr })
    end
    refresh()
    vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
      buffer = bufnr,
      group = vim.api.nvim_create_augroup('objgraph_doctest_codelens_' .. bufnr, { clear = true }),
      callback = refresh,
    })
  end,
}
