"""The KQL subset as a lark LALR grammar (kept in Python so it ships without package-data entries).

Keywords are case-sensitive whole words, as in Kusto. The contextual lexer only treats a word as a
keyword where the grammar accepts that keyword, so ``properties.kind`` or a column named ``count`` still
work.
There is no SQL in the language: ``;``, ``/* */`` and stray quotes have no token, and ``--`` is
refused by the parser (see :mod:`.parser`), so attempts to reach SQL are syntax errors.
"""

GRAMMAR = r"""
start: pipeline

pipeline: NAME ("|" _op)*
_op: where | project | project_away | extend | summarize | sort | top | take | count | distinct
   | join | mv_expand

where: (WHERE | FILTER) expr
project: PROJECT assign ("," assign)*
project_away: PROJECT_AWAY NAME ("," NAME)*
extend: EXTEND assign ("," assign)*
summarize: SUMMARIZE aggregates? by_clause?
aggregates: assign ("," assign)*
by_clause: BY assign ("," assign)*
sort: (ORDER | SORT) BY sort_key ("," sort_key)*
sort_key: expr direction? nulls?
direction: ASC | DESC
nulls: NULLS (FIRST | LAST)
top: TOP INT BY sort_key
take: (TAKE | LIMIT) INT
count: COUNT
distinct: DISTINCT (STAR | NAME ("," NAME)*)
join: JOIN join_kind? "(" pipeline ")" ON join_key ("," join_key)*
join_kind: KIND "=" NAME
join_key: NAME
        | LEFT "." NAME CMP_OP RIGHT "." NAME
mv_expand: MV_EXPAND item_index? assign to_type? expand_limit?
item_index: WITH_ITEMINDEX "=" NAME
to_type: TO TYPEOF "(" NAME ")"
expand_limit: LIMIT INT

assign: NAME "=" expr  -> named
      | expr           -> unnamed

?expr: or_expr
?or_expr: and_expr
        | or_expr OR and_expr                             -> binary
?and_expr: cmp_expr
         | and_expr AND cmp_expr                          -> binary
?cmp_expr: add_expr
         | add_expr CMP_OP add_expr                       -> binary
         | add_expr STR_OP add_expr                       -> binary
         | add_expr IN_OP "(" expr ("," expr)* ")"        -> in_list
         | add_expr BETWEEN_OP "(" add_expr ".." add_expr ")" -> between
?add_expr: mul_expr
         | add_expr (PLUS | MINUS) mul_expr               -> binary
?mul_expr: unary
         | mul_expr (STAR | SLASH | PERCENT) unary        -> binary
?unary: postfix
      | MINUS unary                                       -> neg
?postfix: primary
        | postfix "." NAME                                -> member
        | postfix "[" expr "]"                            -> index
?primary: literal
        | NAME                                            -> column
        | NAME "(" call_args? ")"                         -> call
        | "(" expr ")"
call_args: expr ("," expr)*

literal: STRING | VSTRING | INT | REAL | TIMESPAN | DATETIME | TRUE | FALSE
       | DYNAMIC "(" json ")"                             -> dynamic

?json: json_array | json_object | json_scalar
json_array: "[" (json ("," json)*)? "]"
json_object: "{" (json_pair ("," json_pair)*)? "}"
json_pair: (STRING | VSTRING) ":" json
json_scalar: STRING | VSTRING | INT | REAL | TRUE | FALSE | NULL | MINUS (INT | REAL)

WHERE.2: /where<NW>/
FILTER.2: /filter<NW>/
PROJECT.2: /project<NW>/
PROJECT_AWAY.3: "project-away"
EXTEND.2: /extend<NW>/
SUMMARIZE.2: /summarize<NW>/
BY.2: /by<NW>/
ORDER.2: /order<NW>/
SORT.2: /sort<NW>/
ASC.2: /asc<NW>/
DESC.2: /desc<NW>/
NULLS.2: /nulls<NW>/
FIRST.2: /first<NW>/
LAST.2: /last<NW>/
TOP.2: /top<NW>/
TAKE.2: /take<NW>/
LIMIT.2: /limit<NW>/
COUNT.2: /count<NW>/
DISTINCT.2: /distinct<NW>/
JOIN.2: /join<NW>/
KIND.2: /kind<NW>/
ON.2: /on<NW>/
MV_EXPAND.3: "mv-expand"
WITH_ITEMINDEX.2: /with_itemindex<NW>/
TO.2: /to<NW>/
TYPEOF.2: /typeof<NW>/
AND.2: /and<NW>/
OR.2: /or<NW>/
TRUE.2: /true<NW>/
FALSE.2: /false<NW>/
NULL.2: /null<NW>/
DYNAMIC.2: /dynamic<NW>/
LEFT: "$left"
RIGHT: "$right"

CMP_OP: /==|!=|<>|<=|>=|=~|!~|<|>/
STR_OP.2: /!?(contains|has|startswith|endswith|hasprefix|hassuffix)(_cs)?<NW>|matches\s+regex<NW>/
IN_OP.2: /!?in~?<NW>/
BETWEEN_OP.2: /!?between<NW>/
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PERCENT: "%"

DATETIME.4: /datetime\([^()\n]*\)/
TIMESPAN.3: /\d+(\.\d+)?(<UNITS>)<NW>/
REAL.2: /\d+\.\d+([eE][-+]?\d+)?|\d+[eE][-+]?\d+/
INT: /\d+/
STRING: /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/
VSTRING: /@"(?:[^"\n]|"")*"|@'(?:[^'\n]|'')*'/
NAME: /[A-Za-z_][A-Za-z0-9_]*/

COMMENT: /\/\/[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""
# Longest unit names first: a regex alternation takes the first that matches.
_UNITS = ("days|day|d|hours|hour|hrs|hr|h|minutes|minute|min|ms|m|seconds|second|sec|s|microseconds|microsecond"
          "|ticks|tick")
_NOT_WORD = "(?![A-Za-z0-9_])"
GRAMMAR = GRAMMAR.replace("<UNITS>", _UNITS).replace("<NW>", _NOT_WORD)
