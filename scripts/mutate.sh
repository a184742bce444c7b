#!/usr/bin/env bash
# Mutation testing of the security core with gremlins (docs/testing.md).
#
# One package at a time, one worker, so that it fits two shared cores; each
# package's efficacy (killed / (killed + lived)) is printed at the end.
# MUTATE_PKGS picks packages, e.g. MUTATE_PKGS="internal/oidckeys fakem365".
#
# Never pass --test-cpu to gremlins v0.6.0: it hands "-cpu N" to go test as
# one argument, every mutant then fails to build and counts as killed.
set -u
cd "$(dirname "$0")/.."

GREMLINS=${GREMLINS:-go run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0}
OUT=${OUT:-reports/mutate}
mkdir -p "$OUT"

# package directory → the files whose mutants count ("" = every file).
declare -A keep=(
	[internal/oidckeys]=""
	[fakesnow/encodedquery]=""
	[fakesnow/platform]="auth.go scope.go oauth.go"
	[fakeaad]="token.go"
	[fakem365]="auth.go"
)
order=(internal/oidckeys fakesnow/encodedquery fakesnow/platform fakeaad fakem365)
pkgs=(${MUTATE_PKGS:-${order[@]}})

summary=()
status=0
for pkg in "${pkgs[@]}"; do
	if [[ ! -v keep[$pkg] ]]; then
		echo "unknown package $pkg (one of: ${order[*]})" >&2
		exit 2
	fi
	excludes=()
	if [[ -n "${keep[$pkg]}" ]]; then
		while IFS= read -r f; do
			rel=${f#"$pkg"/}
			[[ " ${keep[$pkg]} " == *" $rel "* ]] && continue
			excludes+=(-E "(^|/)${rel//./\\.}\$")
		done < <(find "$pkg" -name '*.go' ! -name '*_test.go' | sort)
	fi
	name=${pkg//\//_}
	echo "== $pkg (${keep[$pkg]:-all files})"
	$GREMLINS unleash --invert-logical --workers 1 --timeout-coefficient 15 \
		"${excludes[@]}" -o "$OUT/$name.json" "./$pkg" 2>&1 | tee "$OUT/$name.log"
	eff=$(grep -o 'Test efficacy: [0-9.]*%' "$OUT/$name.log" | tail -1 | cut -d' ' -f3)
	counts=$(grep -o 'Killed: [0-9]*, Lived: [0-9]*, Not covered: [0-9]*' "$OUT/$name.log" | tail -1)
	[[ -z "$eff" ]] && { eff="(no result)"; status=1; }
	summary+=("$(printf '%-24s %-10s %s' "$pkg" "$eff" "$counts")")
done

echo
echo "Test efficacy per package ($(date -u '+%Y-%m-%d %H:%M UTC')):"
printf '%s\n' "${summary[@]}"
exit $status
