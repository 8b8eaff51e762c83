# The machine-readable result of a suite that is a script (sourced by eng/mpi-tests.sh,
# eng/packaging-check.sh, native/tools/reliability-ci.sh and eng/cross/check.sh). The other suites
# write their runner's own format: ctest and GoogleTest JUnit, xunit trx, Pester JUnit.
#
#   results_write SUITE PASSED FAILED SKIPPED [FAILURES]
#
# writes $CIRCLELOSS_RESULTS_DIR/SUITE.xml (when the variable is set): a JUnit testsuite whose counts are
# the suite's, with one failed testcase per line of FAILURES; and prints "SUITE: P passed, F failed" for
# people reading the log. eng/test-summary.ps1 adds up every suite's file.

results_xml_escape() {
  sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

results_write() {
  local suite="$1" passed="$2" failed="$3" skipped="$4" failures="${5:-}"
  echo "$suite: $passed passed, $failed failed"
  [ -n "${CIRCLELOSS_RESULTS_DIR:-}" ] || return 0
  mkdir -p "$CIRCLELOSS_RESULTS_DIR"
  local file="$CIRCLELOSS_RESULTS_DIR/$suite.xml"
  {
    printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<testsuite name="%s" tests="%d" failures="%d" errors="0" skipped="%d">\n' \
      "$suite" "$((passed + failed + skipped))" "$failed" "$skipped"
    if [ -n "$failures" ]; then
      while IFS= read -r line; do
        [ -n "$line" ] || continue
        printf '  <testcase classname="%s" name="%s"><failure message="%s"/></testcase>\n' "$suite" \
          "$(printf '%s' "$line" | cut -c1-120 | results_xml_escape)" "$(printf '%s' "$line" | results_xml_escape)"
      done <<<"$failures"
    fi
    printf '</testsuite>\n'
  } >"$file"
}
