; Calls of a name or an attribute chain with a parenthesised argument list: SPF201 keeps those
; inside a function whose arguments are all constants. `*f(x)` in a display parses as a call
; whose function is the list_splat `*f`.
(call
  function: [(identifier) (attribute) (list_splat [(identifier) (attribute)])]
  arguments: (argument_list)) @candidate
