# Tests of the `pyconc` command (label `tool`): it runs, it explains itself, it rejects bad
# usage, and `compare --quick` computes correct results (the tool verifies every result and
# every downloaded page, and exits non-zero on a wrong one) and writes its HTML report. Each test goes through run_tool.cmake, which checks the
# exact exit status and the output.
set(_run_tool ${CMAKE_CURRENT_SOURCE_DIR}/run_tool.cmake)

function(pyconc_tool_test name)
  cmake_parse_arguments(T "" "EXIT;EXPECT;FORBID;TIMEOUT;FILE;FILE_EXPECT" "ARGS" ${ARGN})
  string(REPLACE ";" "|" _args "${T_ARGS}")  # a list cannot cross add_test intact
  add_test(NAME tool.${name}
           COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:pyconc_tool> "-DARGS=${_args}"
                   -DEXIT=${T_EXIT} "-DEXPECT=${T_EXPECT}" "-DFORBID=${T_FORBID}"
                   "-DFILE=${T_FILE}" "-DFILE_EXPECT=${T_FILE_EXPECT}" -P ${_run_tool})
  set_tests_properties(tool.${name} PROPERTIES LABELS tool TIMEOUT ${T_TIMEOUT})
endfunction()

pyconc_tool_test(help ARGS --help EXIT 0 EXPECT "compare" TIMEOUT 30)
pyconc_tool_test(compare_help ARGS compare --help EXIT 0 EXPECT "--quick.*--no-python" TIMEOUT 30)
pyconc_tool_test(bad_option ARGS compare --no-such-option EXIT 2 EXPECT "no-such-option"
                 TIMEOUT 30)
pyconc_tool_test(no_subcommand ARGS "" EXIT 2 EXPECT "subcommand" TIMEOUT 30)
pyconc_tool_test(bad_threads ARGS compare --threads 0 EXIT 2 EXPECT "threads" TIMEOUT 30)
# Table cells with the spaces before them: a time ("138 ms", "1.40 s") and a factor ("2.00×",
# "~50.7×"). Few groups: CMake regexes allow only 9 subexpressions (and have no {n}).
set(_time " +[0-9.]+ [^ \n]*s")
set(_factor " +~?[0-9.]+×")
# A space in wrapped prose, where the line may break ("\n" is a newline: CMake regexes have
# no escape for it).
set(_sp "[ \n]+")
# Both ThreadPoolExecutor rows and the three process rows carry a C++ time and speed-up, and
# the lesson line reports the C++ pool beside Thread per task. The I/O half: every download
# model has a C++ time and speed-up and every page was checked. The HTML report holds the
# three tables (the I/O one with its rows) and an SVG chart each, and no script.
set(_io_rows "C\\. download /list/1 … /list/20.*serial${_time}${_factor}.*Thread per task${_time}${_factor}.*ThreadPoolExecutor\\.map${_time}${_factor}.*Process per task${_time}${_factor}.*ProcessPoolExecutor\\.submit${_time}${_factor}.*asyncio\\.gather \\(ClientSession\\)${_time}${_factor}")
set(_report ${CMAKE_CURRENT_BINARY_DIR}/compare_quick_report.html)
pyconc_tool_test(compare_quick ARGS compare --quick --no-python --report ${_report} EXIT 0
                 EXPECT "ThreadPoolExecutor\\.submit${_time}${_factor}.*ThreadPoolExecutor\\.map${_time}${_factor}.*Process per task${_time}${_factor}.*ProcessPoolExecutor\\.map${_time}${_factor}.*multiprocessing\\.Pool\\.map${_time}${_factor}.*333332833333500000.*C\\+\\+${_sp}Thread${_sp}per${_sp}task${_sp}[0-9.]+×,${_sp}ThreadPoolExecutor${_sp}[0-9.]+×${_sp}\\(no${_sp}GIL\\).*${_io_rows}.*every${_sp}C\\+\\+${_sp}model${_sp}found${_sp}each${_sp}page's${_sp}length.*report: "
                 FORBID "warning|error" TIMEOUT 300
                 FILE ${_report}
                 FILE_EXPECT "^<!DOCTYPE html>.*<style>.*<h2>CPU-bound.*<svg .*<h2>I/O-bound: the seeds&#39; download.*<h3>C\\. download.*<svg .*<td>asyncio\\.gather \\(ClientSession\\)</td><td class=.num.>[0-9.]+ [^ <]*s</td>.*</html>")
# The report cannot be written: the tables are printed, then exit status 1.
pyconc_tool_test(compare_report_unwritable
                 ARGS compare --quick --no-python --no-io --report /nonexistent/dir/r.html EXIT 1
                 EXPECT "B\\. sum.*cannot write the report: cannot open /nonexistent/dir/r\\.html"
                 TIMEOUT 300)
pyconc_tool_test(compare_missing_python ARGS compare --quick --no-io --python /nonexistent/python3
                 EXIT 0 EXPECT "not found.*threads \\(" TIMEOUT 300)

# With an interpreter present, the whole demo: Python's values must match C++'s (exit 0) and
# the Python side must not fail (no warning). Both ThreadPoolExecutor rows must be filled in
# both languages (no "—"): C++ time and speed-up, Python time, [estimate,] speed-up, ratio;
# so must the blocking download rows (the asyncio one needs aiohttp, which may be missing).
find_program(PYCONC_TEST_PYTHON3 python3)
if(PYCONC_TEST_PYTHON3)
  set(_py_cells "${_time}${_factor}${_time}[^—\n]*${_factor}${_factor}")
  pyconc_tool_test(compare_quick_python ARGS compare --quick --python ${PYCONC_TEST_PYTHON3}
                   EXIT 0
                   EXPECT "ThreadPoolExecutor\\.submit${_py_cells}.*ThreadPoolExecutor\\.map${_py_cells}.*ProcessPoolExecutor.*Python printed the same 20 values.*Python's${_sp}Thread${_sp}per${_sp}task${_sp}[0-9.]+×,${_sp}ThreadPoolExecutor${_sp}[0-9.]+×.*C\\. download.*serial${_py_cells}.*Thread per task${_py_cells}.*ProcessPoolExecutor\\.submit${_py_cells}.*Python's${_sp}[0-9]+${_sp}models${_sp}the${_sp}same${_sp}total"
                   FORBID "warning|error" TIMEOUT 600)
endif()

# A "Python" that prints a wrong sum: the cross-check must catch it (exit 1), and the C++
# table must still be printed.
set(_fake_python ${CMAKE_CURRENT_BINARY_DIR}/fake_python_wrong_sum.sh)
file(WRITE ${_fake_python}
     "#!/bin/sh\n"
     "printf 'python\\t3.11.0\\tCPython\\t2\\n'\n"
     "printf 'value\\tB\\t0\\t42\\n'\n"
     "printf 'model\\tB\\tserial\\t1.5\\t1\\t42\\n'\n")
file(CHMOD ${_fake_python} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
     GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
pyconc_tool_test(compare_python_mismatch ARGS compare --quick --no-io --python ${_fake_python} EXIT 1
                 EXPECT "threads \\(.*wrong result: Python B task 0 = 42, C\\+\\+ = 333332833333500000"
                 TIMEOUT 300)

# `pyconc crawl` (the main job of `make demo`): every model crawls the embedded demo site and
# the tool checks the result against the site's known pages (exit 1 on a mismatch), then the
# JSON Lines format, the cuts, errors and bad usage.
set(_crawl_models asyncio threads pipeline processes)
if(TARGET pyconc_mpi)
  list(APPEND _crawl_models mpi)  # worker ranks spawned with MPI_Comm_spawn
endif()
foreach(model IN LISTS _crawl_models)
  pyconc_tool_test(crawl_demo_${model} ARGS crawl --model ${model} --progress never EXIT 0
                   EXPECT "model ${model}.*pages +1,053 fetched, 0 failed +\\(retries.*robots.txt skipped 1.*items +1,000 matched 'a.post-item-title'.*check +OK"
                   FORBID "FAILED|error:" TIMEOUT 120)
endforeach()
pyconc_tool_test(crawl_jsonl ARGS crawl --max-depth 1 --out - --progress never EXIT 0
                 EXPECT "^{\"url\":\"http://127.0.0.1:[0-9]+/\",\"status\":200,\"depth\":0,\"title\":\"pyconc demo blog\",\"items\":..}\n{\"url\":\"http://127.0.0.1:[0-9]+/list/1\",\"status\":200,\"depth\":1,\"title\":\"pyconc demo blog - page 1\",\"items\":.{\"href\":\"http://127.0.0.1:[0-9]+/post/1\",\"text\":\"[^\"]+\"}.*pages +53 fetched.*results +stdout \\(53 JSON lines\\).*check +skipped"
                 TIMEOUT 60)
pyconc_tool_test(crawl_max_pages ARGS crawl --max-pages 10 --model threads --progress never
                 EXIT 0 EXPECT "pages +10 fetched.*check +skipped" TIMEOUT 60)
# Every start URL failed: exit 4 (no HTTP answer) -- as wget and curl, not 0.
pyconc_tool_test(crawl_unreachable ARGS crawl http://127.0.0.1:1/ --retries 1 --progress never
                 EXIT 4
                 EXPECT "pages +0 fetched, 1 failed +\\(retries 1.*failed +every start URL failed.*pyconc crawl: http://127.0.0.1:1/: ClientConnectorError: .*\\(after 2 attempts\\)"
                 TIMEOUT 60)
# Pages above --max-page-size are stopped and recorded as failed, not retried; the start page
# is one of them, so exit 4.
pyconc_tool_test(crawl_max_page_size ARGS crawl --max-page-size 1k --max-depth 1 --progress never
                 EXIT 4
                 EXPECT "pages +0 fetched, [0-9]+ failed +\\(retries 0.*ClientResponseTooLarge: the response body is larger than max_response_size \\(1024 bytes"
                 TIMEOUT 60)
# Ctrl+C and SIGTERM in the middle of a crawl: graceful stop, every placed page on disk.
foreach(sig INT TERM)
  add_test(NAME tool.crawl_interrupted_${sig}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/crawl_interrupt_test.sh
                   $<TARGET_FILE:pyconc_tool> ${sig} ${CMAKE_CURRENT_BINARY_DIR}/interrupt)
  set_tests_properties(tool.crawl_interrupted_${sig} PROPERTIES LABELS tool TIMEOUT 120)
endforeach()
# --state: interrupted (SIGINT, SIGTERM, SIGKILL after a random number of records; the seed is
# printed) and resumed until done, the output equals an uninterrupted crawl's, page for page;
# then a finished state resumed does nothing, and one resumed as another crawl is refused.
add_test(NAME tool.crawl_resume_state
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/crawl_resume_test.sh $<TARGET_FILE:pyconc_tool>
                 ${CMAKE_CURRENT_BINARY_DIR}/resume)
set_tests_properties(tool.crawl_resume_state PROPERTIES LABELS tool TIMEOUT 300)
pyconc_tool_test(crawl_bad_page_size ARGS crawl --max-page-size lots EXIT 2 EXPECT "max-page-size"
                 TIMEOUT 30)
pyconc_tool_test(crawl_bad_url ARGS crawl ftp://example.org/ EXIT 1 EXPECT "ftp://example.org/"
                 TIMEOUT 30)
pyconc_tool_test(crawl_bad_model ARGS crawl --model fibers EXIT 2 EXPECT "fibers" TIMEOUT 30)
# A "Python" whose downloads add up wrong: the I/O cross-check must catch it (exit 1) after
# the download table is printed.
set(_fake_python_io ${CMAKE_CURRENT_BINARY_DIR}/fake_python_wrong_download.sh)
file(WRITE ${_fake_python_io}
     "#!/bin/sh\n"
     "printf 'python\\t3.11.0\\tCPython\\t2\\n'\n"
     "printf 'model\\tC\\tserial\\t0.5\\t1\\t42\\n'\n")
file(CHMOD ${_fake_python_io} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
     GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
pyconc_tool_test(compare_python_io_mismatch ARGS compare --quick --python ${_fake_python_io}
                 EXIT 1
                 EXPECT "C\\. download.*serial${_time}${_factor} +500 ms.*wrong result: Python C serial: 42 bytes in all, expected [0-9]+"
                 TIMEOUT 300)

# `pyconc trace view` in a real browser (chromium --headless; skipped when it is missing), and
# the page of a traced crawl. The browser's screenshot stays at <build>/trace_screenshot.png.
add_test(NAME tool.trace_view_browser
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/trace_browser_test.sh $<TARGET_FILE:pyconc_tool>
                 $<TARGET_FILE:pyconc_trace_sample> ${CMAKE_CURRENT_BINARY_DIR}/trace_browser
                 ${PROJECT_BINARY_DIR}/trace_screenshot.png)
set_tests_properties(tool.trace_view_browser PROPERTIES LABELS tool TIMEOUT 300 SKIP_RETURN_CODE 77)
pyconc_tool_test(trace_view_missing ARGS trace view /nonexistent/t.json -o /tmp/never.html EXIT 1
                 EXPECT "/nonexistent/t.json" TIMEOUT 30)
pyconc_tool_test(trace_view_not_a_trace ARGS trace view ${CMAKE_CURRENT_SOURCE_DIR}/CMakeLists.txt
                 -o ${CMAKE_CURRENT_BINARY_DIR}/never.html EXIT 1
                 EXPECT "CMakeLists.txt: not a trace: invalid JSON" TIMEOUT 30)
pyconc_tool_test(trace_view_needs_output ARGS trace view t.json EXIT 2 EXPECT "output" TIMEOUT 30)
set(_crawl_trace ${CMAKE_CURRENT_BINARY_DIR}/crawl_trace.html)
pyconc_tool_test(crawl_trace ARGS crawl --max-pages 60 --progress never --trace ${_crawl_trace}
                 EXIT 0
                 EXPECT "pages +60 fetched.*timeline +[^ ]*crawl_trace\\.html \\([0-9]+ events in [0-9]+ lanes; for Perfetto: [^ ]*crawl_trace\\.json\\)"
                 TIMEOUT 120 FILE ${_crawl_trace}
                 FILE_EXPECT "^<!DOCTYPE html>.*<canvas class=.tl-canvas.>.*<td>page http://127\\.0\\.0\\.1:[0-9]+/[^<]*<span class=.tl-cat.>crawler</span>.*<script type=.application/json. class=.tl-data.>")
