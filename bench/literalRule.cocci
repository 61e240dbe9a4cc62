// The literal rule, for the benchmark's Coccinelle anchor: a call of a get_user_pages*/pin_user_pages*
// function one of whose arguments spells FOLL_WRITE (in practice the gup_flags argument).
// Written for forksafe's bench/; run with default options:
//   spatch --sp-file bench/literalRule.cocci --dir <tree>
// It names FOLL_WRITE and the API names, so spatch skips every file that mentions none of them
// before parsing. It cannot see FOLL_WRITE in a variable, behind an object-like macro, or passed
// through a wrapper's parameter; that is the point of the comparison.

@literal@
identifier pin = {get_user_pages, get_user_pages_fast, get_user_pages_remote, get_user_pages_unlocked,
                  get_user_pages_locked, get_user_pages_longterm, get_user_pages_fast_only, __get_user_pages,
                  __get_user_pages_fast, pin_user_pages, pin_user_pages_fast, pin_user_pages_remote,
                  pin_user_pages_unlocked, pin_user_pages_locked, pin_user_pages_fast_only};
position p;
@@

pin@p(..., <+... FOLL_WRITE ...+>, ...)

@script:python depends on literal@
p << literal.p;
pin << literal.pin;
@@

print("%s:%s:%s: %s() with FOLL_WRITE" % (p[0].file, p[0].line, int(p[0].column) + 1, pin))
