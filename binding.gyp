{
  # The addon: the Node-free core (native/core) plus the thin N-API binding
  # (native/binding). libuv comes from Node itself: node-gyp puts Node's
  # headers first, and Node exports libuv's symbols, so no second libuv is
  # linked. Boost.Lockfree and RapidJSON are header-only system packages.
  "targets": [
    {
      "target_name": "ficus",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native/core/src').filter(f => f.endsWith('.cc')).map(f => 'native/core/src/' + f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/binding').filter(f => f.endsWith('.cc')).map(f => 'native/binding/' + f).join(' ')\")"
      ],
      "include_dirs": [
        "native/core/include",
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        # Any std::exception (bad_alloc, length_error) becomes a JS Error
        # instead of escaping into V8, which would abort the process.
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      # gyp applies exclusions after merging: never list an -O flag here,
      # or it strips the -O3 below too.
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti", "-std=gnu++17" ],
      "cflags_cc": [ "-std=c++20", "-fexceptions", "-frtti", "-O3", "-Wall", "-Wextra", "-fvisibility=hidden" ],
      "ldflags": [
        # The core's threads must never outlive the code they run: keep the
        # library mapped even if a Worker that loaded it exits.
        "-Wl,-z,nodelete"
      ],
      "conditions": [
        [ "OS=='win'", { "defines": [ "FICUS_UNSUPPORTED_PLATFORM" ] } ]
      ]
    }
  ]
}
