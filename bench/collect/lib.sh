# bench/collect/lib.sh: helpers shared by run.sh and floor.sh (sourced).

# kill_jobs: end the background jobs left. With no job left `kill` would
# fail, and under set -e a failure in the EXIT trap becomes the script's
# exit status (it used to end every run with 2).
kill_jobs() {
	local pids
	mapfile -t pids < <(jobs -p)
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
}

# wait_line FILE REGEX: readiness by output (60 s at most).
wait_line() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench/collect: no /$2/ in $1: $(tail -3 "$1")" >&2
	exit 1
}

# stop PID: SIGINT, wait for the end.
stop() {
	kill -INT "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
