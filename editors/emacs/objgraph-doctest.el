;;; objgraph-doctest.el --- Doctest pages with Eglot -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1") (eglot "1.9"))
;; Keywords: tools, languages, docs

;;; Commentary:

;; Starts objgraph-doctest's language server (`objgraph-doctest lsp') with
;; Eglot for reStructuredText (.rst), Markdown (.md) and plain text (.txt)
;; pages: failing examples show as diagnostics at their expected output,
;; hovers show the actual output, and a code action accepts it.
;;
;;   (require 'objgraph-doctest)
;;   (objgraph-doctest-eglot-setup)
;;   (add-hook 'text-mode-hook #'objgraph-doctest-eglot-ensure)
;;
;; `text-mode-hook' also runs in `rst-mode' and `markdown-mode' buffers; the
;; hook function starts the server only for files named *.txt, *.rst or *.md.
;; See README.md beside this file.

;;; Code:

(defvar eglot-server-programs)
(defvar eglot-workspace-configuration)
(declare-function eglot-ensure "eglot" ())

(defgroup objgraph-doctest nil
  "Run the >>> examples of documentation pages as you edit them."
  :group 'tools
  :prefix "objgraph-doctest-")

(defcustom objgraph-doctest-program "objgraph-doctest"
  "The objgraph-doctest binary: a file name, or a name on variable `exec-path'."
  :type 'string
  :risky t)

(defcustom objgraph-doctest-run-on "change"
  "When a page's examples are run.
\"change\": once typing pauses; \"save\": when the page is saved;
\"manual\": only from the code lenses, which Eglot does not show, so
in Emacs prefer the others."
  :type '(choice (const "change") (const "save") (const "manual")))

(defcustom objgraph-doctest-execute t
  "Non-nil: run examples.  Nil: only parse pages and report their errors."
  :type 'boolean)

(defcustom objgraph-doctest-python nil
  "The Python interpreter that runs examples, or nil for the default.
The default is the `python' key of objgraph-doctest.toml, else
$VIRTUAL_ENV, else ./.venv, else python3 on PATH."
  :type '(choice (const :tag "Default" nil) file)
  :risky t)

(defcustom objgraph-doctest-debounce-ms 300
  "Milliseconds of quiet after an edit before a run starts."
  :type 'integer)

(defconst objgraph-doctest-page-regexp "\\.\\(?:txt\\|rst\\|md\\)\\'"
  "File names of the pages objgraph-doctest reads.")

(defun objgraph-doctest-settings ()
  "Return the server's settings, as a plist for Eglot to send as JSON."
  (append (list :runOn objgraph-doctest-run-on
                :execute (if objgraph-doctest-execute t :json-false)
                :debounceMs objgraph-doctest-debounce-ms)
          (and objgraph-doctest-python
               (list :python (expand-file-name objgraph-doctest-python)))))

(defun objgraph-doctest-workspace-configuration (&rest _)
  "Return the `objgraphDoctest' section of `eglot-workspace-configuration'."
  (list :objgraphDoctest (objgraph-doctest-settings)))

(defun objgraph-doctest-contact (&rest _)
  "Return the command for the server, with its initializationOptions."
  (list objgraph-doctest-program "lsp"
        :initializationOptions (objgraph-doctest-settings)))

;;;###autoload
(defun objgraph-doctest-eglot-setup ()
  "Make Eglot use objgraph-doctest in `rst-mode', `markdown-mode', `text-mode'.
Eglot gives a buffer one server: this one comes first for those modes.
Unless `eglot-workspace-configuration' already has a default, it becomes
`objgraph-doctest-workspace-configuration', so that the settings Eglot
sends after connecting are these too, not an empty object."
  (require 'eglot)
  (add-to-list 'eglot-server-programs
               '((rst-mode markdown-mode text-mode)
                 . objgraph-doctest-contact))
  (unless (default-value 'eglot-workspace-configuration)
    (setq-default eglot-workspace-configuration
                  #'objgraph-doctest-workspace-configuration)))

;;;###autoload
(defun objgraph-doctest-eglot-ensure ()
  "Start objgraph-doctest if the buffer visits a .txt, .rst or .md page."
  (when (and buffer-file-name
             (string-match-p objgraph-doctest-page-regexp buffer-file-name))
    (eglot-ensure)))

(provide 'objgraph-doctest)

;;; objgraph-doctest.el ends here
