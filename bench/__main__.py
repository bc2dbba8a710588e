import sys

if "--device" in sys.argv[1:]:  # the GPU bench (or its CPU smoke run): bench/gpu.py
    from bench.gpu import main
else:
    from bench.run import main

sys.exit(main())
