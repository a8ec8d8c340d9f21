{
  "targets": [
    {
      "target_name": "nsm",
      "sources": ["nsm.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
