from abtool.cli import main

main()
