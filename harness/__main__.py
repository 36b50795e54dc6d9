from harness.cli.main import run

run()
