// ficus_loadgen: a native load generator for the bench protocol
// (bench/PROTOCOL.md). One process runs one mode on one thread with
// epoll; bench/lib/loadgen.js spreads a scenario over several processes
// (each below the 20,000-descriptor ceiling) and drives them over pipes:
// commands in on stdin, one JSON object per line out on stdout.
//
//   --mode sub   subscribers --first F --count N (global indices F..F+N-1);
//                subscriber i follows order:o<i mod --orders>, and when
//                --fanout-every M divides i also driver:d<j> (j from the
//                cumulative --driver-sizes list). Connects at
//                --connect-rate per second (at most --max-inflight
//                handshakes at once) from 127.0.0.2.. (--src-ips), with
//                line i of --tokens-file as ?token= if given, prints
//                {"type":"connected",...}, then:
//                  phase <id> <publishers>    reset counters (ack: "phase")
//                  expect <id> <sent_0> ...   wait for the events the
//                      publishers sent (all arrived, nothing new for
//                      --idle-ms, or --drain-max-ms), print "report"
//                  status
//   --mode pub   --publishers P connections to /publish (or one to each
//                port of --ports p0,p1,...); prints "ready";
//                  start <phase> <rate> <duration_ms>
//                sends `rate` events/s in total, round-robin over the
//                connections, each {"order_id","status","timestamp",
//                "driver_id","ph","pub","seq","sent_ns"} with event key
//                k = seq + pub: order o<k mod --orders>, driver
//                d<k mod --drivers>; prints "done" with the count each
//                publisher sent.
//   --mode http  --conns C keep-alive connections; prints "ready";
//                  start <rate> <duration_ms>
//                GET <--path-prefix><random id below --ids> at a fixed
//                rate (open loop: latency counts from the scheduled send
//                time, so queueing is not hidden); prints "done".
// Every mode: "sample" prints this process's CPU time and the server's
// (--server-pid) CPU time, RSS and peak RSS; "quit" or EOF on stdin exits;
// --max-seconds bounds the process's life.

#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "modes.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  lg::Args args(argc, argv);
  const std::string mode = args.str("mode", "");
  std::unique_ptr<lg::Engine> engine;
  if (mode == "sub") {
    engine = lg::makeSubscriberMode(args);
  } else if (mode == "pub") {
    engine = lg::makePublisherMode(args);
  } else if (mode == "http") {
    engine = lg::makeHttpMode(args);
  } else {
    std::fprintf(stderr,
                 "usage: ficus_loadgen --mode sub|pub|http --port P [options]\n"
                 "  (see the comment at the top of bench/loadgen/main.cc)\n");
    return 2;
  }
  return engine->run();
}
