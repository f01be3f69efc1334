# Per-login time against the number of users, from bench/run.sh's data:
#   gnuplot -e "dir='bench/results'" bench/plot.gp   ->  DIR/login-time.png
# DIR/plot-inproc.dat and DIR/plot-exec.dat, one line per number of users:
#   users  mfauth oath google floor (success)  mfauth oath google floor (failure)
# times in microseconds.
if (!exists("dir")) dir = "bench/results"

set terminal pngcairo size 1200,520 font "sans,10"
set output dir."/login-time.png"

set logscale xy
set xlabel "enrolled users"
set ylabel "time per login (ms)"
set format x "%.0s%c"
set offsets graph 0.1, graph 0.1, graph 0.1, graph 0.1
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key top left Left reverse box opaque
set style data linespoints

# Success solid, failure dashed; one colour per module.
set style line 1 lc rgb "#0b6e4f" lw 2 pt 7
set style line 2 lc rgb "#c0392b" lw 2 pt 5
set style line 3 lc rgb "#2c6fbb" lw 2 pt 9
set style line 4 lc rgb "#555555" lw 2 pt 1
set style line 5 lc rgb "#0b6e4f" lw 1 dt 2 pt 6
set style line 6 lc rgb "#c0392b" lw 1 dt 2 pt 4
set style line 7 lc rgb "#2c6fbb" lw 1 dt 2 pt 8

ms(c) = column(c) / 1000.0

set multiplot layout 1,2 title "mfauth vs pam\\_oath vs pam\\_google\\_authenticator (median per-login time)"
do for [shape in "inproc exec"] {
	f = dir."/plot-".shape.".dat"
	set title (shape eq "inproc" ? "logins in one long-lived process" : "one process per login (exec + PAM)")
	plot f using 1:(ms(2)) ls 1 title "mfauth success", \
	     f using 1:(ms(3)) ls 2 title "pam\\_oath success", \
	     f using 1:(ms(4)) ls 3 title "google-auth success", \
	     f using 1:(ms(6)) ls 5 title "mfauth failure", \
	     f using 1:(ms(7)) ls 6 title "pam\\_oath failure", \
	     f using 1:(ms(8)) ls 7 title "google-auth failure", \
	     f using 1:(ms(5)) ls 4 title "floor (permit + 512 B + fdatasync)"
}
unset multiplot
