; Function and macro definitions: where wrappers and flag macros live.
(function_definition
  declarator: (function_declarator
    declarator: (identifier) @function.name
    parameters: (parameter_list) @function.params)) @function

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @function.name
      parameters: (parameter_list) @function.params))) @function

(preproc_function_def
  name: (identifier) @macro.name
  parameters: (preproc_params) @macro.params
  value: (preproc_arg)? @macro.body) @macro.function

(preproc_def
  name: (identifier) @macro.name
  value: (preproc_arg)? @macro.body) @macro.object
