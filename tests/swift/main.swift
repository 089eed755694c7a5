// XCTest on Linux finds no tests by reflection: they are listed here.
import XCTest

XCTMain([
    testCase([
        ("testWholeInspectionSyncedSignedAndVerified", asyncTest(KiemtraAppTests.testWholeInspectionSyncedSignedAndVerified)),
        ("testCancelledSyncKeepsWhatItDidAndTheNextResumes", asyncTest(KiemtraAppTests.testCancelledSyncKeepsWhatItDidAndTheNextResumes)),
        ("testErrorsArriveAsSwiftErrorsWithCaseAndMessage", asyncTest(KiemtraAppTests.testErrorsArriveAsSwiftErrorsWithCaseAndMessage)),
    ]),
])
