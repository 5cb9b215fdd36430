# Counts `cargo test` output exactly: passed, failed and ignored from each test binary's
# "test result:" line (unit tests, integration tests and doc-tests alike). A binary that
# started ("Running ..." or "Doc-tests ...") but printed no result line crashed: it counts
# as one failure, and its name goes to stderr.
# Prints one line: "passed failed ignored".

function crashed_binary() {
    crashed++
    sub(/^ +/, "", current)
    print "no test result (crashed?): " current > "/dev/stderr"
}

/^ +(Running|Doc-tests) / {
    if (open) crashed_binary()
    open = 1
    current = $0
    next
}

/^test result: / {
    passed += $4
    failed += $6
    ignored += $8
    open = 0
}

END {
    if (open) crashed_binary()
    print passed + 0, failed + crashed, ignored + 0
}
