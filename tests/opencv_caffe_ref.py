"""Run a Caffe model with OpenCV 4.x's own importer and preprocessing (cv2.dnn), as a reference
that vidsum did not write. Standalone: runs in a side environment holding only
opencv-python-headless<5 and numpy (OpenCV 5 dropped the Caffe importer).

    python opencv_caffe_ref.py DEPLOY.prototxt MODEL.caffemodel FRAMES_BGR.npy OUT.npz BLOB...

FRAMES_BGR.npy: (N, 224, 224, 3) uint8 in OpenCV's BGR order. The input blob is made by
cv2.dnn.blobFromImages with the Caffe GoogLeNet convention: mean (104, 117, 123) subtracted,
no scaling, no channel swap, no crop. OUT.npz gets one float32 array per requested blob name.
"""

import sys

import cv2
import numpy as np


def main(argv: list[str]) -> int:
    prototxt, caffemodel, frames_path, out_path, *blobs = argv
    frames = np.load(frames_path)
    net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    blob = cv2.dnn.blobFromImages(list(frames), 1.0, (224, 224), (104.0, 117.0, 123.0), swapRB=False, crop=False)
    net.setInput(blob)
    outs = net.forward(blobs)
    np.savez(out_path, **{name.replace("/", "__"): np.asarray(o, dtype=np.float32) for name, o in zip(blobs, outs)})
    print(cv2.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
