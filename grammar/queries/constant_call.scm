; Calls of a name or an attribute chain with a parenthesised argument list: SPF201 keeps those
; inside a function whose arguments are all constants.
(call
  function: [(identifier) (attribute)]
  arguments: (argument_list)) @candidate
