; Function and macro definitions: where wrappers and flag macros live.
; The function's name is found in TypeScript through any depth of pointer declarators (`struct page **f(...)`).
(function_definition) @function

(preproc_function_def
  name: (identifier) @macro.name
  parameters: (preproc_params) @macro.params
  value: (preproc_arg)? @macro.body) @macro.function

(preproc_def
  name: (identifier) @macro.name
  value: (preproc_arg)? @macro.body) @macro.object
