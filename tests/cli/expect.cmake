# expect.cmake: runs one command and checks its exit status and output, for the nncl command's tests.
#   cmake -DCOMMAND="nncl;train;--data;x.csv" -DEXPECT_RC=1 -DEXPECT_STDERR="regex" -DEXPECT_STDOUT="regex"
#         -P expect.cmake
# A crash (a signal) never matches an expected status, so "no crash" is checked too.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REPLACE ";" " " shown "${COMMAND}")
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
    message(FATAL_ERROR "`${shown}` exited with ${rc}, expected ${EXPECT_RC}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(DEFINED EXPECT_STDERR AND NOT err MATCHES "${EXPECT_STDERR}")
    message(FATAL_ERROR "`${shown}`: stderr does not match \"${EXPECT_STDERR}\":\n${err}")
endif()
if(DEFINED EXPECT_STDOUT AND NOT out MATCHES "${EXPECT_STDOUT}")
    message(FATAL_ERROR "`${shown}`: stdout does not match \"${EXPECT_STDOUT}\":\n${out}")
endif()
# Errors are one clear line, not a dump: the first line of stderr names the command.
if(NOT "${EXPECT_RC}" STREQUAL "0" AND NOT err MATCHES "^nncl")
    message(FATAL_ERROR "`${shown}`: the error does not start with \"nncl\":\n${err}")
endif()
