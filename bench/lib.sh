# Shell helpers the bench scripts share; sourced, not run. The caller
# defines die().

# A port below the kernel's ephemeral range (so no client connection of ours
# or anyone's can be holding it) that no socket on this host uses.
free_port() {
    local low p i
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 12000 ] || low=32768
    for ((i = 0; i < 100; i++)); do
        p=$((10000 + RANDOM % (low - 10000)))
        awk -v port="$(printf '%04X' "$p")" 'NR > 1 { split($2, a, ":"); if (a[2] == port) found = 1 }
            END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || {
            echo "$p"
            return
        }
    done
    die "no free port found"
}

