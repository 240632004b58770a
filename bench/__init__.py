"""`make bench`: request counts, wall time, CPU and memory of plan/apply at scale."""
