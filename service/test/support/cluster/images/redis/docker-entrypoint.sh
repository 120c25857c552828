#!/bin/sh
set -e
# As the official image: flags or a *.conf first argument are arguments of redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
exec "$@"
