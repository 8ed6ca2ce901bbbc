# assets.cmake — embeds the HTML report's assets into libstrata at build time.
#
# Included by the top CMakeLists.txt. It
#   1. installs ECharts with `npm ci` (pinned by package.json + package-lock.json at the repo
#      root) into ${CMAKE_BINARY_DIR}/npm — per build directory, because several build
#      directories share one source tree and `npm ci` first deletes node_modules;
#   2. builds tools/embed.c as a host program;
#   3. turns template.html, report.css, report.js and echarts.min.js into C arrays
#      (${STRATA_GEN_DIR}/report_assets.c/.h) appended to STRATA_EXTRA_SOURCES.
# An offline machine can pass -DSTRATA_ECHARTS_JS=/path/to/echarts.min.js instead.

set(STRATA_REPORT_SRC ${CMAKE_SOURCE_DIR}/src/report)
set(STRATA_ECHARTS_JS "" CACHE FILEPATH
    "echarts.min.js to embed instead of installing ECharts with npm (offline builds)")

# Re-run this step when the pinned version changes.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_SOURCE_DIR}/package.json ${CMAKE_SOURCE_DIR}/package-lock.json)

if(STRATA_ECHARTS_JS)
  set(strata_echarts_js ${STRATA_ECHARTS_JS})
  if(NOT EXISTS ${strata_echarts_js})
    message(FATAL_ERROR "strata: STRATA_ECHARTS_JS=${strata_echarts_js} does not exist")
  endif()
else()
  set(strata_npm_dir ${CMAKE_BINARY_DIR}/npm)
  set(strata_echarts_js ${strata_npm_dir}/node_modules/echarts/dist/echarts.min.js)
  set(strata_lock ${CMAKE_SOURCE_DIR}/package-lock.json)
  # Install when missing or when the lock file differs from the one last installed.
  set(strata_need_npm TRUE)
  if(EXISTS ${strata_echarts_js} AND EXISTS ${strata_npm_dir}/package-lock.json
     AND EXISTS ${strata_lock})
    file(SHA256 ${strata_lock} strata_lock_new)
    file(SHA256 ${strata_npm_dir}/package-lock.json strata_lock_old)
    if(strata_lock_new STREQUAL strata_lock_old)
      set(strata_need_npm FALSE)
    endif()
  endif()
  if(strata_need_npm)
    find_program(STRATA_NPM npm)
    if(NOT STRATA_NPM)
      message(FATAL_ERROR
        "strata: npm is needed to install ECharts for the HTML report, but it is not on PATH.\n"
        "Install it with `make deps` (Debian packages nodejs npm), or configure with\n"
        "-DSTRATA_ECHARTS_JS=/path/to/echarts.min.js.")
    endif()
    file(MAKE_DIRECTORY ${strata_npm_dir})
    file(COPY ${CMAKE_SOURCE_DIR}/package.json DESTINATION ${strata_npm_dir})
    if(EXISTS ${strata_lock})
      file(COPY ${strata_lock} DESTINATION ${strata_npm_dir})
      set(strata_npm_cmd ${STRATA_NPM} ci)
    else()
      set(strata_npm_cmd ${STRATA_NPM} install)
    endif()
    list(GET strata_npm_cmd 1 strata_npm_verb)
    message(STATUS "strata: installing ECharts with `npm ${strata_npm_verb}` in ${strata_npm_dir}")
    execute_process(
      COMMAND ${strata_npm_cmd} --ignore-scripts --no-audit --no-fund --loglevel=error
      WORKING_DIRECTORY ${strata_npm_dir}
      RESULT_VARIABLE strata_npm_rc
      OUTPUT_VARIABLE strata_npm_out
      ERROR_VARIABLE strata_npm_err)
    if(NOT strata_npm_rc EQUAL 0 OR NOT EXISTS ${strata_echarts_js})
      # A stale lock copy would make the next configure skip the install.
      file(REMOVE ${strata_npm_dir}/package-lock.json)
      message(FATAL_ERROR
        "strata: npm could not fetch ECharts for the HTML report (exit ${strata_npm_rc}). "
        "The report inlines node_modules/echarts/dist/echarts.min.js, so the build needs "
        "the npm registry once, or -DSTRATA_ECHARTS_JS=/path/to/echarts.min.js. "
        "npm said:\n${strata_npm_err}${strata_npm_out}")
    endif()
  endif()
endif()

# The embedding tool runs on the build machine; it is never linked into anything.
add_executable(strata_embed ${CMAKE_SOURCE_DIR}/tools/embed.c)

set(strata_report_assets
    template_html=${STRATA_REPORT_SRC}/template.html
    report_css=${STRATA_REPORT_SRC}/report.css
    report_js=${STRATA_REPORT_SRC}/report.js
    echarts_js=${strata_echarts_js})
add_custom_command(
  OUTPUT ${STRATA_GEN_DIR}/report_assets.c ${STRATA_GEN_DIR}/report_assets.h
  COMMAND strata_embed ${STRATA_GEN_DIR}/report_assets.c ${STRATA_GEN_DIR}/report_assets.h
          ${strata_report_assets}
  DEPENDS strata_embed ${STRATA_REPORT_SRC}/template.html ${STRATA_REPORT_SRC}/report.css
          ${STRATA_REPORT_SRC}/report.js ${strata_echarts_js}
  COMMENT "Embedding the HTML report assets (template, CSS, JS, ECharts)"
  VERBATIM)
list(APPEND STRATA_EXTRA_SOURCES ${STRATA_GEN_DIR}/report_assets.c
     ${STRATA_GEN_DIR}/report_assets.h)
