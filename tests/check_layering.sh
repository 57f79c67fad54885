#!/usr/bin/env bash
# check_layering.sh: fails on an `#include "..."` in src/ that points up the module map, naming the file and
# line. The map is the table under "## Module map" in docs/architecture.md, read from there, so the document
# and this test cannot drift apart: every row is a module (its number, name, folders and files, and the
# modules it may include). A file may include the files of its own module, of the modules its row names, and
# the public headers in include/nncl/. A row may only name rows above it, so the map stays acyclic.
#
#   bash tests/check_layering.sh [SOURCE_DIR]      (ctest: the test "layering")
#
# Fails too on a file in src/ that is in no module, and on an include that names no file in src/ or include/
# (headers generated at build time are listed in their module's row as a bare pattern, e.g. `nncl_cl_*.h`).
set -euo pipefail

cd "${1:-$(dirname "$0")/..}"
doc=docs/architecture.md
[ -f "$doc" ] || { echo "check_layering: $doc not found (run from the source tree or pass it)" >&2; exit 2; }

# ---- the map -------------------------------------------------------------------------------------------
declare -a names=() paths=() allowed=()
declare -A index=()
fail=0
while IFS= read -r row; do
    IFS='|' read -r _ num name files may _ <<<"$row"
    num=${num//[[:space:]]/}
    [[ "$num" =~ ^[0-9]+$ ]] || continue # the header and separator rows
    name=$(tr -d ' `' <<<"$name")
    i=${#names[@]}
    if [ "$num" -ne $((i + 1)) ]; then
        echo "$doc: module map: row \"$name\" is numbered $num; the rows count 1, 2, 3, ... from the bottom" >&2
        fail=1
    fi
    names+=("$name")
    index[$name]=$i
    paths+=("$(grep -o '`[^`]*`' <<<"$files" | tr -d '`' | tr '\n' ' ')")
    list=""
    if [[ "$may" == *"all above"* ]]; then
        list="${names[*]:0:i}"
    else
        for m in $(tr ',`' '  ' <<<"$may"); do
            [[ "$m" =~ ^[a-z]+$ ]] || continue # "—" (nothing but the public headers)
            if [ -z "${index[$m]+x}" ] || [ "${index[$m]}" -ge "$i" ]; then
                echo "$doc: module map: $name may include \"$m\", which is not a module above it" >&2
                fail=1
            fi
            list+="$m "
        done
    fi
    allowed+=("$list")
done < <(awk '/^## Module map/ {on = 1; next} on && /^## / {exit} on && /^\|/' "$doc")
if [ ${#names[@]} -eq 0 ]; then
    echo "check_layering: no \"## Module map\" table in $doc" >&2
    exit 2
fi

# The module of a path in src/ (the longest folder or file of any row that it matches), or of a generated
# header's bare name; empty when none.
module_of() {
    local p=$1 best="" best_len=0 i tok
    for i in "${!names[@]}"; do
        for tok in ${paths[$i]}; do
            # shellcheck disable=SC2053 # a bare pattern such as nncl_cl_*.h matches as a glob
            if [[ "$p" == "$tok" || ( "$tok" == */ && "$p" == "$tok"* ) || ( "$tok" != */* && "$p" == $tok ) ]]; then
                if [ ${#tok} -gt $best_len ]; then best=${names[$i]}; best_len=${#tok}; fi
            fi
        done
    done
    echo "$best"
}

# ---- every include ---------------------------------------------------------------------------------------
n_files=0 n_includes=0
while IFS= read -r -d '' f; do
    f=${f#./}
    n_files=$((n_files + 1))
    mod=$(module_of "$f")
    if [ -z "$mod" ]; then
        echo "$f: not in any module of the module map ($doc, \"## Module map\"): add it to a row" >&2
        fail=1
        continue
    fi
    while IFS=: read -r line inc; do
        n_includes=$((n_includes + 1))
        target=""
        for cand in "$(dirname "$f")/$inc" "src/$inc" "include/$inc"; do
            if [ -f "$cand" ]; then target=$(realpath -m --relative-to=. "$cand"); break; fi
        done
        case "$target" in
        include/*) continue ;; # the public headers: for every module
        "") tmod=$(module_of "$inc") ;;
        *) tmod=$(module_of "$target") ;;
        esac
        if [ -z "$tmod" ]; then
            echo "$f:$line: #include \"$inc\" names no file in src/ or include/, nor a generated header of the" \
                 "module map" >&2
            fail=1
        elif [ "$tmod" != "$mod" ] && [[ " ${allowed[${index[$mod]}]} " != *" $tmod "* ]]; then
            may=$(sed 's/ *$//; s/ /, /g' <<<"${allowed[${index[$mod]}]}")
            echo "$f:$line: #include \"$inc\" points up the module map: $mod (module $((index[$mod] + 1))) may" \
                 "include ${may:-only the public headers}, not $tmod (module $((index[$tmod] + 1)));" \
                 "see $doc, \"## Module map\"" >&2
            fail=1
        fi
    done < <(awk 'match($0, /^[ \t]*#[ \t]*include[ \t]*"[^"]*"/) {
                      s = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s); print FNR ":" s
                  }' "$f")
done < <(find src -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

if [ $fail -ne 0 ]; then
    echo "check_layering: FAILED (see docs/architecture.md, \"## Module map\")" >&2
    exit 1
fi
echo "check_layering: $n_includes includes in $n_files files of src/ point down the module map of" \
     "${#names[@]} modules"
