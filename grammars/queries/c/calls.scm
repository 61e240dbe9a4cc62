; Every call of a plain identifier: the candidates for pin sites, release calls and wrapper calls.
; Which names matter is decided in TypeScript (analysis/pinSites.ts), not here.
(call_expression
  function: (identifier) @call.name
  arguments: (argument_list) @call.args) @call
