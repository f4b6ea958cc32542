# Fetch an npm package tarball by pinned version with `npm pack`, verify its sha512 against the
# value pinned here, and unpack it into the build folder. Nothing fetched is ever committed.
#
#   spipfix_fetch_npm(NAME VERSION SHA512_HEX OUT_DIR_VAR)
function(spipfix_fetch_npm name version sha512 outvar)
  set(dest "${CMAKE_BINARY_DIR}/_npm/${name}-${version}")
  set(tgz "${CMAKE_BINARY_DIR}/_npm/${name}-${version}.tgz")
  if(NOT EXISTS "${dest}/.verified")
    file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/_npm")
    if(NOT EXISTS "${tgz}")
      find_program(NPM npm REQUIRED)
      message(STATUS "spipfix: npm pack ${name}@${version}")
      execute_process(
        COMMAND "${NPM}" pack "${name}@${version}" --silent
        WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/_npm"
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
      if(NOT rc EQUAL 0 OR NOT EXISTS "${tgz}")
        message(FATAL_ERROR "spipfix: `npm pack ${name}@${version}` failed (${rc}): ${err}")
      endif()
    endif()
    file(SHA512 "${tgz}" got)
    if(NOT got STREQUAL sha512)
      file(REMOVE "${tgz}")
      message(FATAL_ERROR
        "spipfix: checksum mismatch for npm package ${name}@${version}\n"
        "  expected sha512 ${sha512}\n"
        "  got      sha512 ${got}\n"
        "The download was removed. Refusing to build with unverified sources.")
    endif()
    file(REMOVE_RECURSE "${dest}")
    file(MAKE_DIRECTORY "${dest}")
    file(ARCHIVE_EXTRACT INPUT "${tgz}" DESTINATION "${dest}")
    file(WRITE "${dest}/.verified" "${sha512}\n")
  endif()
  set(${outvar} "${dest}/package" PARENT_SCOPE)
endfunction()
